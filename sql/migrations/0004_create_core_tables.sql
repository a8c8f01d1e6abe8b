-- Dimensions and facts. Dimensions are refreshed from the bundled reference on every build.
CREATE TABLE core.region (
    kode           TEXT PRIMARY KEY,
    nama           TEXT NOT NULL,
    kode_provinsi  TEXT NOT NULL,
    tingkat        TEXT NOT NULL          -- provinsi | kabupaten_kota
);

CREATE TABLE core.instansi (
    kode           TEXT PRIMARY KEY,      -- region code for a regional government, a short code otherwise
    nama           TEXT NOT NULL,
    jenis          TEXT NOT NULL,         -- provinsi | kabupaten | kota | pusat
    kode_provinsi  TEXT,
    nama_provinsi  TEXT
);

CREATE TABLE core.pemilihan (
    kode    TEXT PRIMARY KEY,          -- PILKADA-2018 ... PILKADA-2024, and SEMUA for all elections together
    nama    TEXT NOT NULL,
    urutan  INTEGER NOT NULL           -- chronological order; SEMUA last
);

-- Every report of every case, as received: the history.
CREATE TABLE core.case_history (
    batch_id           TEXT NOT NULL,
    baris              INTEGER NOT NULL,
    received_at        TIMESTAMPTZ NOT NULL,
    kode_kantor        TEXT NOT NULL,
    nomor_kasus        TEXT NOT NULL,
    tanggal_temuan     DATE NOT NULL,
    pemilihan          TEXT NOT NULL,
    instansi_kode      TEXT NOT NULL,
    nip_hash           TEXT,
    nama_hash          TEXT,
    jabatan            TEXT NOT NULL,
    jenis_pelanggaran  TEXT NOT NULL,
    status             TEXT NOT NULL,
    PRIMARY KEY (batch_id, baris)
);

-- The newest report of each case (natural key kode_kantor + nomor_kasus).
CREATE TABLE core.case_current (
    kode_kantor        TEXT NOT NULL,
    nomor_kasus        TEXT NOT NULL,
    batch_id           TEXT NOT NULL,
    baris              INTEGER NOT NULL,
    received_at        TIMESTAMPTZ NOT NULL,
    tanggal_temuan     DATE NOT NULL,
    pemilihan          TEXT NOT NULL,
    instansi_kode      TEXT NOT NULL,
    nip_hash           TEXT,
    nama_hash          TEXT,
    jabatan            TEXT NOT NULL,
    jenis_pelanggaran  TEXT NOT NULL,
    status             TEXT NOT NULL,
    PRIMARY KEY (kode_kantor, nomor_kasus)
);

CREATE TABLE core.national_release (
    batch_id      TEXT PRIMARY KEY,
    penerbit      TEXT NOT NULL,
    judul         TEXT NOT NULL,
    tanggal_data  DATE NOT NULL,
    pemilihan     TEXT NOT NULL,         -- an election code or SEMUA
    received_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE core.national_release_fact (
    batch_id         TEXT NOT NULL,
    instansi_kode    TEXT NOT NULL,
    jumlah           INTEGER NOT NULL,
    peringkat_rilis  INTEGER,
    PRIMARY KEY (batch_id, instansi_kode)
);
