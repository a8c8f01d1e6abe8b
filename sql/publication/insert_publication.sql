-- The frozen header of a week (its rows go in by bulk insert into mart.publication_row).
INSERT INTO mart.publication VALUES (:minggu, :batas_waktu, :versi_metodologi, :dibuat_pada, :jumlah_baris,
    :sha256_csv, :metadata_json, :alasan_terbit_ulang)
