-- The number of the newest migration applied (NULL before the first).
SELECT MAX(version) FROM audit.schema_migration
