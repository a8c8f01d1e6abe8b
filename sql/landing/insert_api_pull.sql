-- One office API pull, whatever its outcome.
INSERT INTO landing.api_pull (kode_kantor, base_url, pulled_at, run_id, status, rows_pulled, pages, watermark,
    file_name, error)
VALUES (:kode_kantor, :base_url, :pulled_at, :run_id, :status, :rows, :pages, :watermark, :file_name, :error)
