-- The rows of each core fact table, returned by a build.
SELECT 'core.case_history' AS tabel, COUNT(*) AS n FROM core.case_history
UNION ALL SELECT 'core.case_current', COUNT(*) FROM core.case_current
UNION ALL SELECT 'core.national_release', COUNT(*) FROM core.national_release
UNION ALL SELECT 'core.national_release_fact', COUNT(*) FROM core.national_release_fact
