-- Frozen weekly publications: a header per ISO week and its ranked rows, never rewritten unless forced.
CREATE TABLE mart.publication (
    minggu               TEXT PRIMARY KEY,   -- ISO week, e.g. 2024-W48
    batas_waktu          TIMESTAMPTZ NOT NULL,
    versi_metodologi     TEXT NOT NULL,
    dibuat_pada          TIMESTAMPTZ NOT NULL,
    jumlah_baris         INTEGER NOT NULL,
    sha256_csv           TEXT NOT NULL,
    metadata_json        TEXT NOT NULL,      -- the frozen metadata of ranking.json (sources, elections)
    alasan_terbit_ulang  TEXT                -- set when a week was re-published by force
);

-- Every publication and forced re-publication, for the record.
CREATE TABLE audit.publication_log (
    minggu       TEXT NOT NULL,
    tindakan     TEXT NOT NULL,              -- terbit | terbit_ulang
    alasan       TEXT,
    sha256_csv   TEXT NOT NULL,
    dicatat_pada TIMESTAMPTZ NOT NULL
);

CREATE TABLE mart.publication_row (
    minggu              TEXT NOT NULL,
    pemilihan           TEXT NOT NULL,
    urutan              INTEGER NOT NULL,
    peringkat           INTEGER NOT NULL,
    instansi_kode       TEXT NOT NULL,
    instansi            TEXT NOT NULL,
    provinsi            TEXT,
    jumlah_pelanggaran  INTEGER NOT NULL,
    peringkat_provinsi  INTEGER,
    perubahan           TEXT NOT NULL,
    n_rilis             INTEGER,
    tanggal_rilis       DATE,
    rilis_batch_id      TEXT,
    r_setelah           INTEGER,
    r_total             INTEGER NOT NULL,
    penentu             TEXT NOT NULL,        -- rilis | regional: which term of max(N + R_after, R_total) won
    PRIMARY KEY (minggu, pemilihan, instansi_kode)
);
