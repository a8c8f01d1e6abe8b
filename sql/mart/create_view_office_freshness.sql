-- Every office of the reference (552) with its latest report: an office that never sent one is 'hilang'
-- (missing), not zero cases. `hari_sejak_laporan`: whole days from that report to today (the server's date),
-- for "no report for N days" questions; the ingestion DAG logs the same list as a warning. A batch that an
-- API pull wrote counts at its report date (the pull's watermark: the newest row the office served), a
-- dropped file at its file time.
CREATE OR REPLACE VIEW mart.office_freshness AS
WITH reported AS (
    SELECT b.kode_kantor, b.batch_id, COALESCE(CAST(p.watermark AS TIMESTAMPTZ), b.received_at) AS dilaporkan
    FROM landing.batch AS b
    LEFT JOIN landing.api_pull AS p
        ON b.source = 'api' AND p.kode_kantor = b.kode_kantor AND p.file_name = b.file_name
    WHERE b.contract = 'case-report/v1' AND b.status IN ('loaded', 'empty')
)
SELECT
    reg.kode AS kode_kantor,
    reg.nama AS wilayah_kantor,
    reg.kode_provinsi,
    CAST(COUNT(r.batch_id) AS INTEGER) AS jumlah_batch,
    MAX(r.dilaporkan) AS laporan_terakhir,
    CAST(CURRENT_DATE - CAST(MAX(r.dilaporkan) AS DATE) AS INTEGER) AS hari_sejak_laporan,
    CAST(CASE WHEN COUNT(r.batch_id) = 0 THEN 'hilang' ELSE 'ada' END AS TEXT) AS status_laporan
FROM core.region AS reg
LEFT JOIN reported AS r ON r.kode_kantor = reg.kode
GROUP BY reg.kode, reg.nama, reg.kode_provinsi
