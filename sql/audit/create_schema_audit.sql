-- The migration runner's first step (Warehouse.migrate): the schema of its bookkeeping tables.
CREATE SCHEMA IF NOT EXISTS audit
