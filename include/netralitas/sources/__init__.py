"""API pull: ask each office's HTTP API for new rows and turn them into batch files (docs/architecture.md#stages)."""
