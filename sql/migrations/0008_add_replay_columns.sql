-- Replays: quarantined rows of a batch re-validated after a fix (an alias, the reference) and loaded.
ALTER TABLE landing.batch ADD COLUMN replay_count INTEGER DEFAULT 0;
ALTER TABLE landing.batch ADD COLUMN last_replay_at TIMESTAMPTZ;
-- A quarantined row that a replay loaded keeps its record, marked with when it was released.
ALTER TABLE audit.quarantine ADD COLUMN dilepas_pada TIMESTAMPTZ;

CREATE TABLE audit.replay (
    batch_id      TEXT NOT NULL,
    run_id        TEXT,
    rows_loaded   INTEGER NOT NULL,
    rows_still_quarantined INTEGER NOT NULL,
    replayed_at   TIMESTAMPTZ NOT NULL
);
