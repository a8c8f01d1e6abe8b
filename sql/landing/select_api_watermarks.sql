-- Each office's watermark: the one of its newest successful pull.
SELECT kode_kantor, watermark FROM (
    SELECT kode_kantor, watermark,
           ROW_NUMBER() OVER (PARTITION BY kode_kantor ORDER BY pulled_at DESC) AS newest
    FROM landing.api_pull
    WHERE status IN ('ok', 'no_change')
) AS latest
WHERE newest = 1
