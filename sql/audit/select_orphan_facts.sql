-- Post-load check: facts whose dimension or batch is missing. Every count must be 0.
SELECT 'case_current.instansi_kode' AS cek, COUNT(*) AS jumlah
FROM core.case_current AS c WHERE NOT EXISTS (SELECT 1 FROM core.instansi AS i WHERE i.kode = c.instansi_kode)
UNION ALL
SELECT 'case_current.kode_kantor', COUNT(*)
FROM core.case_current AS c WHERE NOT EXISTS (SELECT 1 FROM core.region AS r WHERE r.kode = c.kode_kantor)
UNION ALL
SELECT 'case_current.pemilihan', COUNT(*)
FROM core.case_current AS c WHERE NOT EXISTS (SELECT 1 FROM core.pemilihan AS p WHERE p.kode = c.pemilihan)
UNION ALL
SELECT 'case_history.batch_id', COUNT(*)
FROM core.case_history AS h WHERE NOT EXISTS (SELECT 1 FROM landing.batch AS b WHERE b.batch_id = h.batch_id)
UNION ALL
SELECT 'national_release_fact.batch_id', COUNT(*)
FROM core.national_release_fact AS f
WHERE NOT EXISTS (SELECT 1 FROM core.national_release AS r WHERE r.batch_id = f.batch_id)
UNION ALL
SELECT 'national_release_fact.instansi_kode', COUNT(*)
FROM core.national_release_fact AS f WHERE NOT EXISTS (SELECT 1 FROM core.instansi AS i WHERE i.kode = f.instansi_kode)
