-- Typed rows of each batch that passed validation. Personal data is already pseudonymised (HMAC-SHA256).
CREATE TABLE staging.case_report (
    batch_id           TEXT NOT NULL,
    baris              INTEGER NOT NULL,
    kode_kantor        TEXT NOT NULL,
    nomor_kasus        TEXT NOT NULL,
    tanggal_temuan     DATE NOT NULL,
    pemilihan          TEXT NOT NULL,
    instansi_kode      TEXT NOT NULL,
    instansi_asli      TEXT NOT NULL,
    nip_hash           TEXT,
    nama_hash          TEXT,
    jabatan            TEXT NOT NULL,
    jenis_pelanggaran  TEXT NOT NULL,
    status             TEXT NOT NULL,
    PRIMARY KEY (batch_id, baris)
);

CREATE TABLE staging.national_release (
    batch_id      TEXT PRIMARY KEY,
    penerbit      TEXT NOT NULL,
    judul         TEXT NOT NULL,
    tanggal_data  DATE NOT NULL,
    pemilihan     TEXT NOT NULL
);

CREATE TABLE staging.national_release_row (
    batch_id          TEXT NOT NULL,
    baris             INTEGER NOT NULL,
    instansi_kode     TEXT NOT NULL,
    instansi_asli     TEXT NOT NULL,
    jumlah            INTEGER NOT NULL,
    peringkat_rilis   INTEGER,
    provinsi_asli     TEXT,
    PRIMARY KEY (batch_id, baris)
);
