-- Rows still in quarantine (not released by a replay), per office and reason: the rule's column and its
-- Indonesian reason (never the row's values), the rows and batches concerned, the newest ingestion.
SELECT
    b.kode_kantor,
    q.kolom,
    q.alasan,
    COUNT(*) AS baris,
    COUNT(DISTINCT q.batch_id) AS batch,
    MAX(b.ingested_at) AS terakhir
FROM audit.quarantine AS q
JOIN landing.batch AS b ON b.batch_id = q.batch_id
WHERE q.tingkat = 'critical' AND q.dilepas_pada IS NULL
GROUP BY b.kode_kantor, q.kolom, q.alasan
ORDER BY baris DESC, b.kode_kantor, q.kolom, q.alasan
