-- Tables of publication approvals, if the warehouse has any (the approval step is optional to this page).
SELECT table_schema, table_name
FROM information_schema.tables
WHERE table_schema IN ('audit', 'mart') AND table_name LIKE '%approval%'
ORDER BY table_schema, table_name
