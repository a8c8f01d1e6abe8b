-- Corrections in the open (product.md §5): every forced re-publication of a week, with its reason and what
-- changed, so the week's page shows the notice ("Ralat") and corrections.json and feed.xml list it. Version 1
-- of a week is its first publication; each correction publishes the next version.
CREATE TABLE audit.publication_correction (
    minggu           TEXT NOT NULL,
    versi            INTEGER NOT NULL,      -- the version this correction published (2: the first correction)
    alasan           TEXT NOT NULL,
    dicatat_pada     TIMESTAMPTZ NOT NULL,
    perubahan_json   TEXT NOT NULL,         -- rows whose figure or rank moved, entered or left: before -> after
    sha256_csv_lama  TEXT NOT NULL,         -- ranking.csv of the superseded version
    sha256_csv       TEXT NOT NULL,         -- ranking.csv of this version
    PRIMARY KEY (minggu, versi)
);

-- Sign-off before going public: who approved a publication and when (a steward through Airflow's approval
-- request, or `auto` under NETRALITAS_PUBLISH_APPROVAL=auto); a rejected one is logged as `ditolak`.
ALTER TABLE audit.publication_log ADD COLUMN disetujui_oleh TEXT;
ALTER TABLE audit.publication_log ADD COLUMN disetujui_pada TIMESTAMPTZ;
