-- Quarantined rows not released by a replay, and the batches they belong to (for the sign-off request).
SELECT COUNT(*) AS baris, COUNT(DISTINCT batch_id) AS batch
FROM audit.quarantine
WHERE dilepas_pada IS NULL
