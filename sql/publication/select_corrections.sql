-- The corrections register: every correction of every published week, oldest first.
SELECT c.minggu, c.versi, c.alasan, c.dicatat_pada, c.perubahan_json, c.sha256_csv_lama, c.sha256_csv
FROM audit.publication_correction AS c
JOIN mart.publication AS p ON p.minggu = c.minggu
ORDER BY c.dicatat_pada, c.minggu, c.versi
