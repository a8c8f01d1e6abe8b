-- The elections, in one statement: the rows arrive in bulk in incoming_pemilihan (Warehouse.bulk_upsert).
INSERT INTO core.pemilihan (kode, nama, urutan)
SELECT kode, nama, urutan FROM incoming_pemilihan
ON CONFLICT (kode) DO UPDATE SET nama = excluded.nama, urutan = excluded.urutan
