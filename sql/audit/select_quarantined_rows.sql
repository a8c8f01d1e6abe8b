-- The rows of batch b still in quarantine (critical, not released by a replay).
SELECT DISTINCT baris FROM audit.quarantine
WHERE batch_id = :b AND tingkat = 'critical' AND dilepas_pada IS NULL
