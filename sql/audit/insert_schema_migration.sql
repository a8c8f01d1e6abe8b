-- One migration just applied.
INSERT INTO audit.schema_migration (version, name, sha256, applied_at) VALUES (:v, :n, :s, :t)
