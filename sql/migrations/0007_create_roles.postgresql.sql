-- PostgreSQL only: a loader role that writes, and bi_reader that reads the mart schema and nothing else.
-- Roles are global to the server, so they are created only when missing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'netralitas_loader') THEN
        CREATE ROLE netralitas_loader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bi_reader') THEN
        CREATE ROLE bi_reader NOLOGIN;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO bi_reader, netralitas_loader', current_database());
END
$$;

GRANT USAGE, CREATE ON SCHEMA landing, staging, core, mart, audit TO netralitas_loader;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA landing, staging, core, mart, audit
    TO netralitas_loader;
ALTER DEFAULT PRIVILEGES IN SCHEMA landing, staging, core, mart, audit
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO netralitas_loader;

REVOKE ALL ON SCHEMA landing, staging, core, audit FROM PUBLIC;
GRANT USAGE ON SCHEMA mart TO bi_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA mart TO bi_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA mart GRANT SELECT ON TABLES TO bi_reader;
