INSERT INTO core.region (kode, nama, kode_provinsi, tingkat)
VALUES (:kode, :nama, :kode_provinsi, :tingkat)
ON CONFLICT (kode) DO UPDATE SET
    nama = excluded.nama, kode_provinsi = excluded.kode_provinsi, tingkat = excluded.tingkat
