"""Pseudonymisation of personal data (product.md §7): HMAC-SHA256 under a key never stored in the repo."""

from __future__ import annotations

import hashlib
import hmac
import re

import pandas as pd

from include.netralitas.ingest.distinct import apply_distinct, map_distinct


def pseudonymise(values: pd.Series, key: bytes) -> pd.Series:
    """Hex HMAC-SHA256 of each value; blanks stay missing. Same key and value give the same token (the
    readers have NFKC-normalised every cell: a NIP in fullwidth digits is the same NIP in ASCII). Each
    distinct value is hashed once."""

    def token(value: object) -> str | None:
        if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
            return None
        text = str(value).strip()
        if not text:
            return None
        return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    return map_distinct(values, token)


# The shape of a value: ASCII digits -> 9, letters -> A, any other non-ASCII character (an Arabic-Indic or
# Devanagari digit among them: only ASCII digits are digits of a NIP) -> #.
SHAPE_STEPS: tuple[tuple[str, str], ...] = ((r"[0-9]", "9"), (r"[^\W\d_]", "A"), (r"[^\x00-\x7f]", "#"))


def mask_format(values: pd.Series) -> pd.Series:
    """Keep only the shape of each value (SHAPE_STEPS) so validation can check a format, such as 18 digits for
    a NIP, without the value itself reaching a validation result or Data Docs. Each distinct value is shaped
    once."""

    def shape(distinct: pd.Series) -> pd.Series:
        shaped = distinct.astype("string")
        for pattern, replacement in SHAPE_STEPS:
            shaped = shaped.str.replace(pattern, replacement, regex=True)
        return shaped

    return apply_distinct(values, shape)


def mask_value(value: str) -> str:
    """The shape of one value, as `mask_format` gives it for a column."""
    for pattern, replacement in SHAPE_STEPS:
        value = re.sub(pattern, replacement, value)
    return value
