-- The frozen header of week w.
SELECT * FROM mart.publication WHERE minggu = :w
