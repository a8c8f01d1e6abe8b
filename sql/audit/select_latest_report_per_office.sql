-- The latest loaded case report of each office up to :as_of (offices that never reported are absent; the
-- freshness check compares the result with the reference list of offices). A batch that an API pull wrote
-- counts at its report date, the watermark of that pull (the received-at of the newest row the office
-- served), not at the moment netralitas fetched it; a dropped file counts at its file time.
WITH reported AS (
    SELECT b.kode_kantor, COALESCE(CAST(p.watermark AS TIMESTAMPTZ), b.received_at) AS dilaporkan
    FROM landing.batch AS b
    LEFT JOIN landing.api_pull AS p
        ON b.source = 'api' AND p.kode_kantor = b.kode_kantor AND p.file_name = b.file_name
    WHERE b.contract = 'case-report/v1' AND b.status IN ('loaded', 'empty') AND b.kode_kantor IS NOT NULL
)
SELECT kode_kantor, MAX(dilaporkan) AS laporan_terakhir
FROM reported
WHERE dilaporkan <= :as_of
GROUP BY kode_kantor
