-- Batches whose rows core has merged: a build then only revisits the cases those new batches touch.
CREATE TABLE core.merged_batch (
    batch_id   TEXT PRIMARY KEY,
    merged_at  TIMESTAMPTZ NOT NULL
);
