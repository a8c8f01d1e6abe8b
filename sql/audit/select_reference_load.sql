-- The digest of the reference data last loaded into core.region, core.instansi and core.pemilihan.
SELECT sha256 FROM audit.reference_load
