-- What week w's data-package version (MAJOR.MINOR.PATCH, docs/methodology.md) is made of: the weeks published
-- before, the place of w among the weeks in the order they were first published (NULL while w is not
-- published; read only for a week frozen before its version was), and the forced re-publications
-- (corrections) of w recorded so far.
WITH first_published AS (
    SELECT minggu, MIN(dicatat_pada) AS pertama FROM audit.publication_log
    WHERE tindakan <> 'ditolak'  -- a week rejected at sign-off was not published
    GROUP BY minggu
)
SELECT
    (SELECT COUNT(*) FROM first_published WHERE minggu <> :w) AS other_weeks,
    (SELECT COUNT(*) + 1 FROM first_published AS f CROSS JOIN first_published AS w
     WHERE w.minggu = :w AND f.minggu <> :w
       AND (f.pertama < w.pertama OR (f.pertama = w.pertama AND f.minggu < w.minggu))) AS place,
    (SELECT COUNT(*) FROM audit.publication_log WHERE minggu = :w AND tindakan = 'terbit_ulang') AS corrections
