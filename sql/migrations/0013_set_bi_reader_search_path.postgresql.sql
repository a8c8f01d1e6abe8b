-- PostgreSQL only: bi_reader lands in the mart schema of this warehouse database, so a BI tool's
-- `SELECT * FROM national_ranking` works as well as `mart.national_ranking` (docs/bi.md). Setting another
-- role's defaults needs a superuser or CREATEROLE: a migrating role without it (the compose stack's loader)
-- leaves it to docker/warehouse_init.py or to the DBA's step in docs/bi.md, and the migration goes on.
-- Settings are not inherited: a login role granted bi_reader needs its own (docs/bi.md).
DO $$
BEGIN
    EXECUTE format('ALTER ROLE bi_reader IN DATABASE %I SET search_path = mart', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'bi_reader: search_path not set (%); see docs/bi.md', SQLERRM;
END
$$;
