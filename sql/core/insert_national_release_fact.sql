INSERT INTO core.national_release_fact (batch_id, instansi_kode, jumlah, peringkat_rilis)
SELECT s.batch_id, s.instansi_kode, s.jumlah, s.peringkat_rilis
FROM staging.national_release_row AS s
WHERE NOT EXISTS (
    SELECT 1 FROM core.national_release_fact AS f
    WHERE f.batch_id = s.batch_id AND f.instansi_kode = s.instansi_kode
)
