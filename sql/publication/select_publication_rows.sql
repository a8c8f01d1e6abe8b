-- The frozen rows of week w, in their published order.
SELECT * FROM mart.publication_row WHERE minggu = :w ORDER BY urutan
