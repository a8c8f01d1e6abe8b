-- The ranking as of today, for the post-load lineage check (warehouse_v1).
SELECT * FROM mart.national_ranking
