-- One batch's manifest row.
SELECT * FROM landing.batch WHERE batch_id = :b
