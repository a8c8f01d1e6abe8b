-- The latest loaded case report of each office up to :as_of (offices that never reported are absent; the
-- freshness check compares the result with the reference list of offices).
SELECT kode_kantor, MAX(received_at) AS laporan_terakhir
FROM landing.batch
WHERE contract = 'case-report/v1' AND status IN ('loaded', 'empty') AND kode_kantor IS NOT NULL AND received_at <= :as_of
GROUP BY kode_kantor
