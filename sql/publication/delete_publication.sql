-- Before (re-)freezing week w.
DELETE FROM mart.publication WHERE minggu = :w
