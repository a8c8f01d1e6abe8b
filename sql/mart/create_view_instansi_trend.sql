-- Each instansi's counted cases (core.counted_case) in every election, today.
CREATE OR REPLACE VIEW mart.instansi_trend AS
SELECT
    i.kode AS instansi_kode,
    i.nama AS instansi,
    i.jenis,
    i.nama_provinsi AS provinsi,
    p.kode AS pemilihan,
    p.nama AS nama_pemilihan,
    p.urutan,
    CAST(COUNT(c.nomor_kasus) AS INTEGER) AS jumlah_kasus
FROM core.instansi AS i
CROSS JOIN core.pemilihan AS p
LEFT JOIN core.counted_case AS c
    ON c.instansi_kode = i.kode AND c.pemilihan = p.kode
WHERE p.kode <> 'SEMUA'
  AND EXISTS (SELECT 1 FROM core.case_current AS any_case WHERE any_case.instansi_kode = i.kode)
GROUP BY i.kode, i.nama, i.jenis, i.nama_provinsi, p.kode, p.nama, p.urutan
