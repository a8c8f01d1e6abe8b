-- The repeatable migrations: each view (and the mart relations' comments) with the digest of its definition
-- as applied; a changed digest re-creates it (Warehouse._apply_views).
CREATE TABLE IF NOT EXISTS audit.schema_view (
    name       TEXT PRIMARY KEY,
    sha256     TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
)
