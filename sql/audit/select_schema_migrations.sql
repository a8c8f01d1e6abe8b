-- The migrations already applied, with the digest of each.
SELECT version, name, sha256, applied_at FROM audit.schema_migration
