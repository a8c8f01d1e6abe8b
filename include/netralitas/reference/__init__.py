"""Reference data: regions, the instansi catalogue and the name resolver (docs/contracts.md)."""
