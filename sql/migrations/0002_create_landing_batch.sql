-- The manifest: one row per batch (a dropped file or a fetched payload), addressed by its content hash.
-- rows_in = rows_loaded + rows_quarantined + rows_duplicate for every batch that was read.
CREATE TABLE landing.batch (
    batch_id          TEXT PRIMARY KEY,      -- SHA-256 of the content
    contract          TEXT NOT NULL,         -- case-report/v1 | national-release/v1
    source            TEXT NOT NULL,         -- file | api
    kode_kantor       TEXT,                  -- the reporting office (case reports)
    file_name         TEXT NOT NULL,
    landed_path       TEXT NOT NULL,
    received_at       TIMESTAMPTZ NOT NULL,  -- when the office delivered it (file time or fetch time)
    ingested_at       TIMESTAMPTZ NOT NULL,
    run_id            TEXT,
    rows_in           INTEGER NOT NULL,
    rows_loaded       INTEGER NOT NULL,
    rows_quarantined  INTEGER NOT NULL,
    rows_duplicate    INTEGER NOT NULL,
    status            TEXT NOT NULL,         -- loaded | rejected
    error             TEXT,
    CHECK (rows_in = rows_loaded + rows_quarantined + rows_duplicate)
);
