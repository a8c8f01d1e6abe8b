-- Mark the batches merged by this build (after upsert_case_current and insert_case_current).
INSERT INTO core.merged_batch (batch_id, merged_at)
SELECT DISTINCT h.batch_id, CAST(:merged_at AS TIMESTAMPTZ)
FROM core.case_history AS h
WHERE NOT EXISTS (SELECT 1 FROM core.merged_batch AS m WHERE m.batch_id = h.batch_id)
