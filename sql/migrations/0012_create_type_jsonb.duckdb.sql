-- DuckDB only: `jsonb` as an alias of DuckDB's JSON type, so the mart's SQL can say CAST(... AS JSONB) on both
-- databases (PostgreSQL's jsonb; sql/mart/create_view_week.sql). The catalogue shows it as JSON.
CREATE TYPE jsonb AS JSON;
