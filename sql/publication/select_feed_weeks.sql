-- Every published week with the time of its first publication (the log's first `terbit`; the frozen
-- header's time for a week published before the log recorded it).
SELECT p.minggu, p.batas_waktu, COALESCE(MIN(l.dicatat_pada), p.dibuat_pada) AS terbit_pada
FROM mart.publication AS p
LEFT JOIN audit.publication_log AS l ON l.minggu = p.minggu AND l.tindakan = 'terbit'
GROUP BY p.minggu, p.batas_waktu, p.dibuat_pada
ORDER BY p.minggu
