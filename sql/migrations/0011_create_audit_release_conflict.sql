-- Superseded and conflicting national releases (docs/runbook.md, "Conflicting national releases").
-- Releases of the same penerbit, tanggal_data and pemilihan are one publication: the release landed last
-- (landing.batch.ingested_at, when the warehouse committed its batch; then batch_id) is in force, as a whole;
-- every other one is superseded. A release with no loaded row supersedes nothing. A file's own time
-- (received_at, its mtime) never decides. sql/mart/national_ranking.sql (CTE landed) applies the same
-- order: keep the two in step.
-- audit.release_supersession: each superseded release, the release that won, and how many instansi differ
-- (listed by one only, or with another jumlah); 0 for an identical re-release.
CREATE VIEW audit.release_supersession AS
WITH rilis AS (
    SELECT
        r.batch_id, r.penerbit, r.tanggal_data, r.pemilihan, b.file_name, b.ingested_at,
        ROW_NUMBER() OVER (
            PARTITION BY r.penerbit, r.tanggal_data, r.pemilihan
            ORDER BY b.ingested_at DESC NULLS LAST, r.batch_id DESC
        ) AS urutan
    FROM core.national_release AS r
    LEFT JOIN landing.batch AS b ON b.batch_id = r.batch_id
    WHERE EXISTS (SELECT 1 FROM core.national_release_fact AS f WHERE f.batch_id = r.batch_id)
),
pasangan AS (
    SELECT
        k.penerbit, k.tanggal_data, k.pemilihan,
        m.batch_id AS pemenang_batch_id, m.file_name AS pemenang_file, m.ingested_at AS pemenang_dimuat_pada,
        k.batch_id AS digantikan_batch_id, k.file_name AS digantikan_file, k.ingested_at AS digantikan_dimuat_pada
    FROM rilis AS k
    JOIN rilis AS m
      ON m.penerbit = k.penerbit AND m.tanggal_data = k.tanggal_data AND m.pemilihan = k.pemilihan AND m.urutan = 1
    WHERE k.urutan > 1
)
SELECT
    p.*,
    (SELECT COUNT(DISTINCT x.instansi_kode)
     FROM core.national_release_fact AS x
     WHERE x.batch_id IN (p.pemenang_batch_id, p.digantikan_batch_id)
       AND NOT EXISTS (
           SELECT 1
           FROM core.national_release_fact AS a
           JOIN core.national_release_fact AS c ON c.instansi_kode = a.instansi_kode AND c.jumlah = a.jumlah
           WHERE a.batch_id = p.digantikan_batch_id AND c.batch_id = p.pemenang_batch_id
             AND a.instansi_kode = x.instansi_kode
       )) AS instansi_berbeda,
    (SELECT COUNT(*) FROM core.national_release_fact AS f WHERE f.batch_id = p.pemenang_batch_id) AS instansi_pemenang,
    (SELECT COUNT(*) FROM core.national_release_fact AS f WHERE f.batch_id = p.digantikan_batch_id)
        AS instansi_digantikan
FROM pasangan AS p;

-- audit.release_conflict: the superseded releases whose figures differ from the winner's (an identical
-- re-release, the same figures in another file, is no conflict).
CREATE VIEW audit.release_conflict AS
SELECT * FROM audit.release_supersession WHERE instansi_berbeda > 0;
