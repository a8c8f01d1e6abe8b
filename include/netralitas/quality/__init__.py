"""Great Expectations: the suites, the file context, its repair after a crash, Data Docs (docs/architecture.md)."""
