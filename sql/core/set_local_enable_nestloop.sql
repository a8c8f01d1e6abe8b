-- PostgreSQL only, first in the build's transaction with sql/core/set_local_work_mem.sql: no nested loops in
-- this transaction. The merge inserts into the tables its anti-joins read (core.case_history,
-- core.case_current); when such a table has been vacuumed while empty (after a rolled-back or killed first
-- build), the planner trusts its zero rows and re-scans it once per staged row, which grows with the square of
-- the rows (52,000 staged rows: 19 s; a million: hours). Hash joins stay linear whatever the statistics say.
-- The setting ends with the transaction.
SET LOCAL enable_nestloop = off
