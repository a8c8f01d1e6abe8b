-- The ranking as of today: sql/mart/national_ranking.sql (methodology, written once) with the cut-off set to
-- today in WIB (the date in Asia/Jakarta, as mart.week), inlined by include/netralitas/warehouse/database.py
-- (view_statements) at the marker line below. The casts give the contract's types (sql/mart/contract.toml) without changing a value: RANK() and COUNT(*) are
-- bigint, the values are small whole numbers.
CREATE OR REPLACE VIEW mart.national_ranking AS
SELECT
    CAST(r.urutan_pemilihan AS INTEGER) AS urutan_pemilihan,
    CAST(r.pemilihan AS TEXT) AS pemilihan,
    CAST(r.peringkat AS INTEGER) AS peringkat,
    CAST(r.instansi_kode AS TEXT) AS instansi_kode,
    CAST(r.instansi AS TEXT) AS instansi,
    CAST(r.provinsi AS TEXT) AS provinsi,
    CAST(r.jumlah_pelanggaran AS INTEGER) AS jumlah_pelanggaran,
    CAST(r.peringkat_provinsi AS INTEGER) AS peringkat_provinsi,
    CAST(r.n_rilis AS INTEGER) AS n_rilis,
    CAST(r.tanggal_rilis AS DATE) AS tanggal_rilis,
    CAST(CAST(EXTRACT(ISOYEAR FROM r.tanggal_rilis) AS INTEGER) AS TEXT) || '-W'
        || LPAD(CAST(CAST(EXTRACT(WEEK FROM r.tanggal_rilis) AS INTEGER) AS TEXT), 2, '0') AS minggu_rilis,
    CAST(r.rilis_batch_id AS TEXT) AS rilis_batch_id,
    CAST(r.r_setelah AS INTEGER) AS r_setelah,
    CAST(r.r_total AS INTEGER) AS r_total,
    CAST(r.jumlah_pemilihan AS INTEGER) AS jumlah_pemilihan,
    CAST(r.penentu AS TEXT) AS penentu
FROM (
-- @ranking: sql/mart/national_ranking.sql, :cutoff_date = today in WIB
) AS r
