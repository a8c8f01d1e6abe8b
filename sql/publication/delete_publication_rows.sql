-- Before (re-)freezing week w.
DELETE FROM mart.publication_row WHERE minggu = :w
