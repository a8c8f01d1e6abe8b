-- Staged rows of the batches not merged yet (core.merged_batch; a replay forgets its batch there) that core
-- does not hold yet; re-running inserts nothing. Driven by the manifest: the staged rows of a merged batch are
-- never read again (staging.case_report's key starts with batch_id).
INSERT INTO core.case_history (
    batch_id, baris, received_at, kode_kantor, nomor_kasus, tanggal_temuan, pemilihan, instansi_kode,
    nip_hash, nama_hash, jabatan, jenis_pelanggaran, status
)
SELECT
    s.batch_id, s.baris, b.received_at, s.kode_kantor, s.nomor_kasus, s.tanggal_temuan, s.pemilihan,
    s.instansi_kode, s.nip_hash, s.nama_hash, s.jabatan, s.jenis_pelanggaran, s.status
FROM landing.batch AS b
JOIN staging.case_report AS s ON s.batch_id = b.batch_id
WHERE NOT EXISTS (SELECT 1 FROM core.merged_batch AS m WHERE m.batch_id = b.batch_id)
    AND NOT EXISTS (
        SELECT 1 FROM core.case_history AS h WHERE h.batch_id = s.batch_id AND h.baris = s.baris
    )
