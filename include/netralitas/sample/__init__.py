"""Sample data and the sample office API, for `make demo` and the tests only; the pipeline never imports it."""
