-- Why rows were set aside, and what every validation found.
CREATE TABLE audit.quarantine (
    batch_id  TEXT NOT NULL,
    baris     INTEGER NOT NULL,          -- 0: the whole batch
    kolom     TEXT NOT NULL,
    aturan    TEXT NOT NULL,             -- the expectation (or reader rule) that failed
    alasan    TEXT NOT NULL,
    tingkat   TEXT NOT NULL,             -- critical | warning
    run_id    TEXT
);

CREATE TABLE audit.validation_result (
    run_id            TEXT,
    batch_id          TEXT NOT NULL,
    suite             TEXT NOT NULL,
    expectation       TEXT NOT NULL,
    kolom             TEXT NOT NULL,
    success           BOOLEAN NOT NULL,
    unexpected_count  INTEGER NOT NULL,
    tingkat           TEXT NOT NULL,
    validated_at      TIMESTAMPTZ NOT NULL
);
