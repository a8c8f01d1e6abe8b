"""Publication: the week's ranking, frozen snapshot, the five files written atomically (docs/methodology.md)."""
