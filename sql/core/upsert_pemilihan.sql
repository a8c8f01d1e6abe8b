INSERT INTO core.pemilihan (kode, nama, urutan)
VALUES (:kode, :nama, :urutan)
ON CONFLICT (kode) DO UPDATE SET nama = excluded.nama, urutan = excluded.urutan
