-- Sanction follow-up per instansi and election: of the cases forwarded for sanction (direkomendasikan or
-- sanksi), the share that ended in a sanction.
CREATE OR REPLACE VIEW mart.sanction_followup AS
SELECT
    i.kode AS instansi_kode,
    i.nama AS instansi,
    c.pemilihan,
    CAST(SUM(CASE WHEN c.status IN ('direkomendasikan', 'sanksi') THEN 1 ELSE 0 END) AS INTEGER) AS diteruskan,
    CAST(SUM(CASE WHEN c.status = 'sanksi' THEN 1 ELSE 0 END) AS INTEGER) AS disanksi,
    -- a ratio 0-1 with 4 decimals: numeric(5,4) (DuckDB's division alone gives a DOUBLE)
    CAST(CASE WHEN SUM(CASE WHEN c.status IN ('direkomendasikan', 'sanksi') THEN 1 ELSE 0 END) = 0 THEN NULL
         ELSE ROUND(CAST(SUM(CASE WHEN c.status = 'sanksi' THEN 1 ELSE 0 END) AS NUMERIC(12, 4))
                    / SUM(CASE WHEN c.status IN ('direkomendasikan', 'sanksi') THEN 1 ELSE 0 END), 4)
    END AS NUMERIC(5, 4)) AS rasio_sanksi
FROM core.case_current AS c
JOIN core.instansi AS i ON i.kode = c.instansi_kode
GROUP BY i.kode, i.nama, c.pemilihan
