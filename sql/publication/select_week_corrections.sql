-- The corrections of week w, oldest first.
SELECT minggu, versi, alasan, dicatat_pada, perubahan_json, sha256_csv_lama, sha256_csv
FROM audit.publication_correction
WHERE minggu = :w
ORDER BY versi
