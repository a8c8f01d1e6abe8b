-- Every batch id in the manifest (the caller keeps the ones it asks about).
SELECT batch_id FROM landing.batch
