INSERT INTO core.instansi (kode, nama, jenis, kode_provinsi, nama_provinsi)
VALUES (:kode, :nama, :jenis, :kode_provinsi, :nama_provinsi)
ON CONFLICT (kode) DO UPDATE SET
    nama = excluded.nama, jenis = excluded.jenis,
    kode_provinsi = excluded.kode_provinsi, nama_provinsi = excluded.nama_provinsi
