-- Reconciliation (product.md §4): for every instansi listed in a national release, the release's figure N
-- against the regional count of counted cases up to the release's as-of date T, so gaps show.
CREATE OR REPLACE VIEW mart.reconciliation AS
SELECT
    r.batch_id AS rilis_batch_id,
    r.penerbit,
    r.judul,
    r.tanggal_data,
    CAST(CAST(EXTRACT(ISOYEAR FROM r.tanggal_data) AS INTEGER) AS TEXT) || '-W'
        || LPAD(CAST(CAST(EXTRACT(WEEK FROM r.tanggal_data) AS INTEGER) AS TEXT), 2, '0') AS minggu_data,
    r.pemilihan,
    f.instansi_kode,
    i.nama AS instansi,
    f.jumlah AS n_rilis,
    CAST((SELECT COUNT(*) FROM core.counted_case AS c
          WHERE c.instansi_kode = f.instansi_kode
            AND (r.pemilihan = 'SEMUA' OR c.pemilihan = r.pemilihan)
            AND c.tanggal_temuan <= r.tanggal_data) AS INTEGER) AS r_sampai_tanggal_data,
    CAST(f.jumlah - (SELECT COUNT(*) FROM core.counted_case AS c
                     WHERE c.instansi_kode = f.instansi_kode
                       AND (r.pemilihan = 'SEMUA' OR c.pemilihan = r.pemilihan)
                       AND c.tanggal_temuan <= r.tanggal_data) AS INTEGER) AS selisih
FROM core.national_release AS r
JOIN core.national_release_fact AS f ON f.batch_id = r.batch_id
JOIN core.instansi AS i ON i.kode = f.instansi_kode
