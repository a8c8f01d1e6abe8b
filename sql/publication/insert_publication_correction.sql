-- A forced re-publication of week w: the version it published, the reason, when, and what changed.
INSERT INTO audit.publication_correction (minggu, versi, alasan, dicatat_pada, perubahan_json, sha256_csv_lama, sha256_csv)
VALUES (:minggu, :versi, :alasan, :dicatat_pada, :perubahan_json, :sha256_csv_lama, :sha256_csv)
