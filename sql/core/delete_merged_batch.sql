-- Forget that batch b was merged, so that the next build merges it again (after a replay).
DELETE FROM core.merged_batch WHERE batch_id = :b
