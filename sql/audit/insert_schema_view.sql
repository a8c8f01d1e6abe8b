-- A view (or a relation's comments) just (re)applied.
INSERT INTO audit.schema_view (name, sha256, applied_at) VALUES (:n, :s, :t)
