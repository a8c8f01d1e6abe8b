-- Every pull of an office's API: what came back, and the watermark the next pull starts from.
CREATE TABLE landing.api_pull (
    kode_kantor  TEXT NOT NULL,
    base_url     TEXT NOT NULL,
    pulled_at    TIMESTAMPTZ NOT NULL,
    run_id       TEXT,
    status       TEXT NOT NULL,        -- ok | no_change | failed
    rows_pulled  INTEGER NOT NULL,
    pages        INTEGER NOT NULL,
    watermark    TEXT,                 -- received-at of the newest row pulled so far (incremental pulls)
    file_name    TEXT,                 -- the batch file written to the drop folder
    error        TEXT
);
