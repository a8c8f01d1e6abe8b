-- The newest report of each case wins: the batch the warehouse landed last (landing.batch.ingested_at, never
-- a file's modification time, which copying or a wrong clock changes; ties broken by batch id and row). The
-- history stays in core.case_history. Only the cases touched by batches not merged yet are revisited (rows of
-- core.case_history whose batch core.merged_batch does not list). This statement revisits the touched cases
-- core.case_current already holds and writes only those whose newest report changed;
-- sql/core/insert_case_current.sql, which runs next with the same ranking, adds the touched cases it does not
-- hold yet (a plain insert, cheaper than ON CONFLICT).
INSERT INTO core.case_current (
    kode_kantor, nomor_kasus, batch_id, baris, received_at, tanggal_temuan, pemilihan, instansi_kode,
    nip_hash, nama_hash, jabatan, jenis_pelanggaran, status
)
SELECT
    kode_kantor, nomor_kasus, batch_id, baris, received_at, tanggal_temuan, pemilihan, instansi_kode,
    nip_hash, nama_hash, jabatan, jenis_pelanggaran, status
FROM (
    SELECT
        h.*,
        ROW_NUMBER() OVER (
            PARTITION BY h.kode_kantor, h.nomor_kasus
            ORDER BY b.ingested_at DESC, h.batch_id DESC, h.baris DESC
        ) AS newest
    FROM core.case_history AS h
    JOIN landing.batch AS b ON b.batch_id = h.batch_id
    WHERE EXISTS (
        SELECT 1
        FROM core.case_history AS t
        WHERE t.kode_kantor = h.kode_kantor AND t.nomor_kasus = h.nomor_kasus
            AND NOT EXISTS (SELECT 1 FROM core.merged_batch AS m WHERE m.batch_id = t.batch_id)
    )
        AND EXISTS (
            SELECT 1 FROM core.case_current AS c WHERE c.kode_kantor = h.kode_kantor AND c.nomor_kasus = h.nomor_kasus
        )
) AS ranked
WHERE newest = 1
ON CONFLICT (kode_kantor, nomor_kasus) DO UPDATE SET
    batch_id = excluded.batch_id,
    baris = excluded.baris,
    received_at = excluded.received_at,
    tanggal_temuan = excluded.tanggal_temuan,
    pemilihan = excluded.pemilihan,
    instansi_kode = excluded.instansi_kode,
    nip_hash = excluded.nip_hash,
    nama_hash = excluded.nama_hash,
    jabatan = excluded.jabatan,
    jenis_pelanggaran = excluded.jenis_pelanggaran,
    status = excluded.status
WHERE core.case_current.batch_id <> excluded.batch_id OR core.case_current.baris <> excluded.baris
