-- A replay moved n rows of batch b from the quarantine to staging.
UPDATE landing.batch
SET rows_loaded = rows_loaded + :n,
    rows_quarantined = rows_quarantined - :n,
    status = CASE WHEN rows_loaded + :n > 0 THEN 'loaded' ELSE status END,
    replay_count = COALESCE(replay_count, 0) + 1,
    last_replay_at = :t
WHERE batch_id = :b
