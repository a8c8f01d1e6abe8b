"""The warehouse: one access path for DuckDB and PostgreSQL, migrations, the core build, freshness."""
