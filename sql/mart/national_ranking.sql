-- Methodology v2 (product.md §4, docs/methodology.md) for one cut-off date. For each instansi i and election e:
--   R_total  = counted cases (core.counted_case, tanggal_temuan <= cut-off)
--   T, N     = tanggal_data and jumlah of the newest release for e (tanggal_data <= cut-off) listing i,
--              among the releases in force (a superseded release never counts; ties of tanggal_data
--              between publishers go to the one landed last)
--   R_after  = counted cases of i in e with tanggal_temuan > T
--   violations(i, e) = max(N + R_after, R_total), or R_total without such a release
-- For all elections together (pemilihan = 'SEMUA'):
--   jumlah_pemilihan = the sum of violations(i, e) over the elections (the same figures as the trend)
--   N_s, T_s = the newest release for SEMUA listing i; R_after_s = counted cases of i, any election, after T_s
--   violations(i, SEMUA) = max(jumlah_pemilihan, N_s + R_after_s), or jumlah_pemilihan without such a release:
--   never below the sum of the elections' figures.
-- penentu names the term that won: rilis, regional (an election) or pemilihan (SEMUA: the sum); a tie goes
-- to regional / pemilihan.
-- Competition ranking (1, 2, 3, 3, 5) per election; per-province rank among regional governments.
-- Every instansi with at least one violation is returned, ranked. The weekly publication keeps the rows
-- ranked 10 or better (ties can give more than 10 rows) and orders tied rows by name in Python (code-point
-- order, identical whatever the database's collation). The view mart.national_ranking is this query with
-- :cutoff_date = today in WIB (include/netralitas/warehouse/database.py, view_statements).
WITH counted AS (
    SELECT instansi_kode, pemilihan, tanggal_temuan
    FROM core.counted_case
    WHERE tanggal_temuan <= :cutoff_date
),
regional AS (
    SELECT instansi_kode, pemilihan, COUNT(*) AS r_total
    FROM counted
    GROUP BY instansi_kode, pemilihan
),
landed AS (
    -- Releases of one penerbit, tanggal_data and pemilihan are one publication: the one landed last
    -- (landing.batch.ingested_at, then batch_id; never a file's mtime) is in force as a whole, the others are
    -- superseded (audit.release_conflict lists those whose figures differ). A release without a loaded row
    -- supersedes nothing.
    SELECT
        r.batch_id, r.pemilihan, r.tanggal_data, b.ingested_at,
        ROW_NUMBER() OVER (
            PARTITION BY r.penerbit, r.tanggal_data, r.pemilihan
            ORDER BY b.ingested_at DESC NULLS LAST, r.batch_id DESC
        ) AS urutan
    FROM core.national_release AS r
    LEFT JOIN landing.batch AS b ON b.batch_id = r.batch_id
    WHERE r.tanggal_data <= :cutoff_date
      AND EXISTS (SELECT 1 FROM core.national_release_fact AS f WHERE f.batch_id = r.batch_id)
),
in_force AS (
    SELECT batch_id, pemilihan, tanggal_data, ingested_at FROM landed WHERE urutan = 1
),
listed AS (
    SELECT
        f.instansi_kode, r.pemilihan, r.tanggal_data, f.jumlah, r.batch_id,
        ROW_NUMBER() OVER (
            PARTITION BY f.instansi_kode, r.pemilihan
            ORDER BY r.tanggal_data DESC, r.ingested_at DESC NULLS LAST, r.batch_id DESC
        ) AS newest
    FROM core.national_release_fact AS f
    JOIN in_force AS r ON r.batch_id = f.batch_id
),
release AS (
    -- R_after: a release for one election counts the cases of that election after T, a release for SEMUA
    -- the cases of every election after T.
    SELECT l.instansi_kode, l.pemilihan, l.tanggal_data, l.jumlah, l.batch_id,
           (SELECT COUNT(*) FROM counted AS c
            WHERE c.instansi_kode = l.instansi_kode
              AND (l.pemilihan = 'SEMUA' OR c.pemilihan = l.pemilihan)
              AND c.tanggal_temuan > l.tanggal_data) AS r_setelah
    FROM listed AS l
    WHERE l.newest = 1
),
per_election AS (
    SELECT
        COALESCE(g.instansi_kode, r.instansi_kode) AS instansi_kode,
        COALESCE(g.pemilihan, r.pemilihan) AS pemilihan,
        COALESCE(g.r_total, 0) AS r_total,
        r.jumlah AS n_rilis,
        r.tanggal_data AS tanggal_rilis,
        r.batch_id AS rilis_batch_id,
        r.r_setelah
    FROM regional AS g
    FULL OUTER JOIN (SELECT * FROM release WHERE pemilihan <> 'SEMUA') AS r
        ON r.instansi_kode = g.instansi_kode AND r.pemilihan = g.pemilihan
),
election_judged AS (
    SELECT
        e.instansi_kode, e.pemilihan, e.r_total, e.n_rilis, e.tanggal_rilis, e.rilis_batch_id, e.r_setelah,
        CAST(NULL AS BIGINT) AS jumlah_pemilihan,
        CASE WHEN e.n_rilis IS NOT NULL AND e.n_rilis + e.r_setelah > e.r_total
             THEN e.n_rilis + e.r_setelah ELSE e.r_total END AS jumlah_pelanggaran,
        CASE WHEN e.n_rilis IS NOT NULL AND e.n_rilis + e.r_setelah > e.r_total
             THEN 'rilis' ELSE 'regional' END AS penentu
    FROM per_election AS e
    JOIN core.pemilihan AS p ON p.kode = e.pemilihan
),
summed AS (
    SELECT instansi_kode, CAST(SUM(r_total) AS BIGINT) AS r_total,
           CAST(SUM(jumlah_pelanggaran) AS BIGINT) AS jumlah_pemilihan
    FROM election_judged
    GROUP BY instansi_kode
),
all_elections AS (
    SELECT
        COALESCE(s.instansi_kode, r.instansi_kode) AS instansi_kode,
        'SEMUA' AS pemilihan,
        COALESCE(s.r_total, 0) AS r_total,
        r.jumlah AS n_rilis,
        r.tanggal_data AS tanggal_rilis,
        r.batch_id AS rilis_batch_id,
        r.r_setelah,
        COALESCE(s.jumlah_pemilihan, 0) AS jumlah_pemilihan
    FROM summed AS s
    FULL OUTER JOIN (SELECT * FROM release WHERE pemilihan = 'SEMUA') AS r ON r.instansi_kode = s.instansi_kode
),
judged AS (
    SELECT * FROM election_judged
    UNION ALL
    SELECT
        a.instansi_kode, a.pemilihan, a.r_total, a.n_rilis, a.tanggal_rilis, a.rilis_batch_id, a.r_setelah,
        a.jumlah_pemilihan,
        CASE WHEN a.n_rilis IS NOT NULL AND a.n_rilis + a.r_setelah > a.jumlah_pemilihan
             THEN a.n_rilis + a.r_setelah ELSE a.jumlah_pemilihan END AS jumlah_pelanggaran,
        CASE WHEN a.n_rilis IS NOT NULL AND a.n_rilis + a.r_setelah > a.jumlah_pemilihan
             THEN 'rilis' ELSE 'pemilihan' END AS penentu
    FROM all_elections AS a
),
ranked AS (
    SELECT
        j.*,
        i.nama AS instansi,
        i.nama_provinsi AS provinsi,
        i.kode_provinsi,
        p.urutan AS urutan_pemilihan,
        RANK() OVER (PARTITION BY j.pemilihan ORDER BY j.jumlah_pelanggaran DESC) AS peringkat,
        CASE WHEN i.jenis <> 'pusat' THEN
            RANK() OVER (PARTITION BY j.pemilihan, i.kode_provinsi ORDER BY j.jumlah_pelanggaran DESC)
        END AS peringkat_provinsi
    FROM judged AS j
    JOIN core.instansi AS i ON i.kode = j.instansi_kode
    JOIN core.pemilihan AS p ON p.kode = j.pemilihan
    WHERE j.jumlah_pelanggaran > 0
)
SELECT
    urutan_pemilihan, pemilihan, peringkat, instansi_kode, instansi, provinsi, kode_provinsi, jumlah_pelanggaran,
    peringkat_provinsi, n_rilis, tanggal_rilis, rilis_batch_id, r_setelah, r_total, jumlah_pemilihan, penentu
FROM ranked
