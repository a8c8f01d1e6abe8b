-- Every office of the reference (552) with its latest report: an office that never sent one is 'hilang'
-- (missing), not zero cases. `hari_sejak_laporan`: whole days from that report to today (the server's date),
-- for "no report for N days" questions; the ingestion DAG logs the same list as a warning.
CREATE OR REPLACE VIEW mart.office_freshness AS
SELECT
    reg.kode AS kode_kantor,
    reg.nama AS wilayah_kantor,
    reg.kode_provinsi,
    CAST(COUNT(b.batch_id) AS INTEGER) AS jumlah_batch,
    MAX(b.received_at) AS laporan_terakhir,
    CAST(CURRENT_DATE - CAST(MAX(b.received_at) AS DATE) AS INTEGER) AS hari_sejak_laporan,
    CAST(CASE WHEN COUNT(b.batch_id) = 0 THEN 'hilang' ELSE 'ada' END AS TEXT) AS status_laporan
FROM core.region AS reg
LEFT JOIN landing.batch AS b
    ON b.kode_kantor = reg.kode AND b.contract = 'case-report/v1' AND b.status IN ('loaded', 'empty')
GROUP BY reg.kode, reg.nama, reg.kode_provinsi
