-- The national releases dated up to the cut-off d, the sources of a week.
SELECT batch_id, penerbit, judul, tanggal_data, pemilihan
FROM core.national_release
WHERE tanggal_data <= :d
ORDER BY tanggal_data, batch_id
