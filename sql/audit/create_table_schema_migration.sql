-- The migrations applied (sql/migrations/NNNN_*.sql), with the digest of each file as applied: a file changed
-- after it was applied is refused (Warehouse.migrate).
CREATE TABLE IF NOT EXISTS audit.schema_migration (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
)
