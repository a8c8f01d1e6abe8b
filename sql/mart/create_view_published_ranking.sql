-- Frozen weekly publications: one row per published ranked instansi, with its week's header.
CREATE OR REPLACE VIEW mart.published_ranking AS
SELECT
    p.minggu, p.batas_waktu, p.dibuat_pada, p.versi_metodologi, p.alasan_terbit_ulang,
    r.pemilihan, r.urutan, r.peringkat, r.instansi_kode, r.instansi, r.provinsi, r.jumlah_pelanggaran,
    r.peringkat_provinsi, r.perubahan, r.n_rilis, r.tanggal_rilis, r.r_setelah, r.r_total, r.penentu
FROM mart.publication AS p
JOIN mart.publication_row AS r ON r.minggu = p.minggu
