-- Staged rows of the batches not merged yet (core.merged_batch; a replay forgets its batch there) that core
-- does not hold yet; re-running inserts nothing. The staged rows of merged batches are set aside by a hash of
-- core.merged_batch (one row per batch) before any lookup in core.case_history.
INSERT INTO core.case_history (
    batch_id, baris, received_at, kode_kantor, nomor_kasus, tanggal_temuan, pemilihan, instansi_kode,
    nip_hash, nama_hash, jabatan, jenis_pelanggaran, status
)
SELECT
    s.batch_id, s.baris, b.received_at, s.kode_kantor, s.nomor_kasus, s.tanggal_temuan, s.pemilihan,
    s.instansi_kode, s.nip_hash, s.nama_hash, s.jabatan, s.jenis_pelanggaran, s.status
FROM staging.case_report AS s
JOIN landing.batch AS b ON b.batch_id = s.batch_id
WHERE NOT EXISTS (SELECT 1 FROM core.merged_batch AS m WHERE m.batch_id = s.batch_id)
    AND NOT EXISTS (
        SELECT 1 FROM core.case_history AS h WHERE h.batch_id = s.batch_id AND h.baris = s.baris
    )
