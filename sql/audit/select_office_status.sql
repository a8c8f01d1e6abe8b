-- Every office of the reference (552) with its newest case-report batch (the file or API pull it came from,
-- its status and row accounting) and its newest API pull, province by province: the netralitas page of the
-- Airflow UI (plugins/netralitas_status.py). No personal data: manifest and pull records only.
WITH newest_batch AS (
    SELECT
        b.kode_kantor, b.file_name, b.source, b.status, b.rows_in, b.rows_loaded, b.rows_quarantined,
        b.rows_duplicate, b.received_at, b.ingested_at,
        ROW_NUMBER() OVER (
            PARTITION BY b.kode_kantor ORDER BY b.ingested_at DESC, b.received_at DESC, b.batch_id
        ) AS urutan
    FROM landing.batch AS b
    WHERE b.contract = 'case-report/v1' AND b.kode_kantor IS NOT NULL
),
newest_pull AS (
    SELECT
        p.kode_kantor, p.status, p.pulled_at,
        ROW_NUMBER() OVER (PARTITION BY p.kode_kantor ORDER BY p.pulled_at DESC) AS urutan
    FROM landing.api_pull AS p
)
SELECT
    reg.kode AS kode_kantor,
    reg.nama AS wilayah,
    reg.kode_provinsi,
    prov.nama AS provinsi,
    nb.file_name,
    nb.source,
    nb.status,
    nb.rows_in,
    nb.rows_loaded,
    nb.rows_quarantined,
    nb.rows_duplicate,
    nb.received_at,
    nb.ingested_at,
    np.status AS pull_status,
    np.pulled_at
FROM core.region AS reg
LEFT JOIN core.region AS prov ON prov.kode = reg.kode_provinsi
LEFT JOIN newest_batch AS nb ON nb.kode_kantor = reg.kode AND nb.urutan = 1
LEFT JOIN newest_pull AS np ON np.kode_kantor = reg.kode AND np.urutan = 1
ORDER BY reg.kode_provinsi, reg.kode
