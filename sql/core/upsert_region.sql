-- The reference regions, in one statement: the rows arrive in bulk in incoming_region (Warehouse.bulk_upsert).
INSERT INTO core.region (kode, nama, kode_provinsi, tingkat)
SELECT kode, nama, kode_provinsi, tingkat FROM incoming_region
ON CONFLICT (kode) DO UPDATE SET
    nama = excluded.nama, kode_provinsi = excluded.kode_provinsi, tingkat = excluded.tingkat
