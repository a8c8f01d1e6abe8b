-- The views and comments applied, with the digest of each definition.
SELECT name, sha256 FROM audit.schema_view
