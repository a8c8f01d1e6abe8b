-- Each instansi in every election, today: its counted regional cases (core.counted_case) and its figure under
-- the methodology in force (mart.national_ranking: max(N + R_after, R_total), 0 when unranked), the same
-- measure as the trend of the weekly publication. An instansi is listed once a case or a release names it.
CREATE OR REPLACE VIEW mart.instansi_trend AS
SELECT
    i.kode AS instansi_kode,
    i.nama AS instansi,
    i.jenis,
    i.nama_provinsi AS provinsi,
    p.kode AS pemilihan,
    p.nama AS nama_pemilihan,
    p.urutan,
    CAST(COUNT(c.nomor_kasus) AS INTEGER) AS jumlah_kasus,
    CAST(COALESCE(MAX(r.jumlah_pelanggaran), 0) AS INTEGER) AS jumlah_pelanggaran
FROM core.instansi AS i
CROSS JOIN core.pemilihan AS p
LEFT JOIN core.counted_case AS c
    ON c.instansi_kode = i.kode AND c.pemilihan = p.kode
LEFT JOIN mart.national_ranking AS r
    ON r.instansi_kode = i.kode AND r.pemilihan = p.kode
WHERE p.kode <> 'SEMUA'
  AND (EXISTS (SELECT 1 FROM core.case_current AS any_case WHERE any_case.instansi_kode = i.kode)
       OR EXISTS (SELECT 1 FROM core.national_release_fact AS f WHERE f.instansi_kode = i.kode))
GROUP BY i.kode, i.nama, i.jenis, i.nama_provinsi, p.kode, p.nama, p.urutan
