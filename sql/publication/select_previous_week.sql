-- The newest published week before w.
SELECT MAX(minggu) FROM mart.publication WHERE minggu < :w
