-- Counted cases per instansi and election up to the cut-off d (the trend across elections, frozen with the week).
SELECT instansi_kode, pemilihan, COUNT(*) AS n
FROM core.counted_case
WHERE tanggal_temuan <= :d
GROUP BY instansi_kode, pemilihan
