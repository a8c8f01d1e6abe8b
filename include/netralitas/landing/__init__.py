"""Landing: store every raw file once under its content hash, owner-only (docs/architecture.md#stages)."""
