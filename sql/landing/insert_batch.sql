-- One batch's manifest row, written in the batch's own transaction (rows in = loaded + quarantined + duplicates).
INSERT INTO landing.batch (batch_id, contract, source, kode_kantor, file_name, landed_path,
    received_at, ingested_at, run_id, rows_in, rows_loaded, rows_quarantined, rows_duplicate, status, error)
VALUES (:batch_id, :contract, :source, :kode_kantor, :file_name, :landed_path,
    :received_at, :ingested_at, :run_id, :rows_in, :rows_loaded, :rows_quarantined, :rows_duplicate, :status, :error)
