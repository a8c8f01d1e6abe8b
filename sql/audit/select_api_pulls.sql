-- The newest API pulls (one row per office and pull): outcome, rows and pages, the watermark reached.
SELECT kode_kantor, status, rows_pulled, pages, pulled_at, run_id
FROM landing.api_pull
ORDER BY pulled_at DESC, kode_kantor
LIMIT :limit
