-- Before recording the digest of a new reference load (the table holds one row).
DELETE FROM audit.reference_load
