"""Read, resolve, validate, pseudonymise and stage each batch; quarantine and replay (docs/architecture.md#stages)."""
