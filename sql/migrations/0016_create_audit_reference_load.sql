-- The digest of the reference data (regions, instansi catalogue, elections) last loaded into the core
-- dimensions: a build refreshes them only when the reference files changed. One row.
CREATE TABLE audit.reference_load (
    sha256    TEXT NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL
);
