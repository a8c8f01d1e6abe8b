-- The week dimension: one row per ISO week from 2018-W01 (FIRST_WEEK of include/netralitas/weeks.py) up to
-- the current week in WIB, with the same arithmetic as weeks.py: Monday to Sunday, cut-off Sunday 23:59:59
-- WIB, publication the Monday after at 07:00 WIB. Asia/Jakarta has no daylight-saving time. The
-- publication columns come from mart.publication (NULL for a week not published); `metadata` is its frozen
-- metadata as JSON (jsonb on PostgreSQL, JSON on DuckDB through the alias of migration 0012).
CREATE OR REPLACE VIEW mart.week AS
WITH senin AS (
    SELECT DATE '2018-01-01' + CAST(g.i AS INTEGER) * 7 AS senin  -- 2018-01-01 is the Monday of 2018-W01
    FROM generate_series(0, 5300) AS g(i)                         -- a century of weeks, cut at today below
),
minggu AS (
    SELECT
        s.senin,
        CAST(EXTRACT(ISOYEAR FROM s.senin) AS INTEGER) AS tahun_iso,
        CAST(EXTRACT(WEEK FROM s.senin) AS INTEGER) AS minggu_ke
    FROM senin AS s
    WHERE s.senin <= CAST(now() AT TIME ZONE 'Asia/Jakarta' AS DATE)
)
SELECT
    CAST(m.tahun_iso AS TEXT) || '-W' || LPAD(CAST(m.minggu_ke AS TEXT), 2, '0') AS minggu,
    m.tahun_iso,
    m.minggu_ke,
    CAST(m.senin AS DATE) AS senin,
    CAST(m.senin + 6 AS DATE) AS ahad,
    (CAST(m.senin + 6 AS TIMESTAMP) + INTERVAL '23:59:59') AT TIME ZONE 'Asia/Jakarta' AS batas_waktu,
    (CAST(m.senin + 7 AS TIMESTAMP) + INTERVAL '07:00:00') AT TIME ZONE 'Asia/Jakarta' AS jadwal_terbit,
    now() >= CAST(m.senin + 7 AS TIMESTAMP) AT TIME ZONE 'Asia/Jakarta' AS sudah_berakhir,
    p.minggu IS NOT NULL AS diterbitkan,
    p.dibuat_pada,
    p.versi_metodologi,
    p.alasan_terbit_ulang,
    p.jumlah_baris,
    CAST(p.metadata_json AS JSONB) AS metadata
FROM minggu AS m
LEFT JOIN mart.publication AS p
    ON p.minggu = CAST(m.tahun_iso AS TEXT) || '-W' || LPAD(CAST(m.minggu_ke AS TEXT), 2, '0')
