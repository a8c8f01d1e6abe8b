INSERT INTO core.national_release (batch_id, penerbit, judul, tanggal_data, pemilihan, received_at)
SELECT s.batch_id, s.penerbit, s.judul, s.tanggal_data, s.pemilihan, b.received_at
FROM staging.national_release AS s
JOIN landing.batch AS b ON b.batch_id = s.batch_id
WHERE NOT EXISTS (SELECT 1 FROM core.national_release AS r WHERE r.batch_id = s.batch_id)
