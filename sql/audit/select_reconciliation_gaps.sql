-- Each release figure's gap to the regional count, for the post-load reconciliation warning (warehouse_v1).
SELECT instansi_kode, rilis_batch_id, selisih FROM mart.reconciliation
