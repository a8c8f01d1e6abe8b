-- One publication of week w: terbit, terbit_ulang (with its reason) or ditolak (a rejected sign-off), the
-- CSV's hash, the time, and who approved or rejected it and when (NULL when published without sign-off).
INSERT INTO audit.publication_log (minggu, tindakan, alasan, sha256_csv, dicatat_pada, disetujui_oleh, disetujui_pada)
VALUES (:w, :a, :r, :s, :t, :by, :at)
