-- The digest of the reference data just loaded, and when.
INSERT INTO audit.reference_load VALUES (:s, :t)
