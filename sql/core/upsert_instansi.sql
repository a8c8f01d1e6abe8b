-- The instansi catalogue, in one statement: the rows arrive in bulk in incoming_instansi (Warehouse.bulk_upsert).
INSERT INTO core.instansi (kode, nama, jenis, kode_provinsi, nama_provinsi)
SELECT kode, nama, jenis, kode_provinsi, nama_provinsi FROM incoming_instansi
ON CONFLICT (kode) DO UPDATE SET
    nama = excluded.nama, jenis = excluded.jenis,
    kode_provinsi = excluded.kode_provinsi, nama_provinsi = excluded.nama_provinsi
