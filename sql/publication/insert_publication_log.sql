-- One publication of week w: terbit or terbit_ulang (with its reason), the CSV's hash, the time.
INSERT INTO audit.publication_log VALUES (:w, :a, :r, :s, :t)
