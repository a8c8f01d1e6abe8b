-- The newest report of each touched case core.case_current does not hold yet, after
-- sql/core/upsert_case_current.sql (which revisits the cases it holds): the same rule, the batch the warehouse
-- landed last wins (landing.batch.ingested_at, ties broken by batch id and row), among the cases touched by the
-- batches core.merged_batch does not list.
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
        AND NOT EXISTS (
            SELECT 1 FROM core.case_current AS c WHERE c.kode_kantor = h.kode_kantor AND c.nomor_kasus = h.nomor_kasus
        )
) AS ranked
WHERE newest = 1
