-- The header of one national release batch (its rows go in by bulk insert into staging.national_release_row).
INSERT INTO staging.national_release (batch_id, penerbit, judul, tanggal_data, pemilihan)
VALUES (:b, :p, :j, :t, :e)
