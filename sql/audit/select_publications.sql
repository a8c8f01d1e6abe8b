-- The newest weekly publications and every (re-)publication recorded for them.
SELECT p.minggu, p.batas_waktu, p.dibuat_pada, p.jumlah_baris, l.tindakan, l.alasan, l.dicatat_pada
FROM mart.publication AS p
LEFT JOIN audit.publication_log AS l ON l.minggu = p.minggu
ORDER BY p.minggu DESC, l.dicatat_pada DESC
LIMIT :limit
