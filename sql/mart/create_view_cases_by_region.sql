-- Current cases (newest report of each) by reporting region, election, violation type, position and status.
CREATE OR REPLACE VIEW mart.cases_by_region AS
SELECT
    c.pemilihan,
    prov.kode AS kode_provinsi,
    prov.nama AS provinsi,
    c.kode_kantor,
    reg.nama AS wilayah_kantor,
    c.jenis_pelanggaran,
    c.jabatan,
    c.status,
    CAST(COUNT(*) AS INTEGER) AS jumlah_kasus,
    CAST(COUNT(k.nomor_kasus) AS INTEGER) AS jumlah_dihitung
FROM core.case_current AS c
LEFT JOIN core.counted_case AS k ON k.kode_kantor = c.kode_kantor AND k.nomor_kasus = c.nomor_kasus
JOIN core.region AS reg ON reg.kode = c.kode_kantor
JOIN core.region AS prov ON prov.kode = reg.kode_provinsi
GROUP BY c.pemilihan, prov.kode, prov.nama, c.kode_kantor, reg.nama, c.jenis_pelanggaran, c.jabatan, c.status
