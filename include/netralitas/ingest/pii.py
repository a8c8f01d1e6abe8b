"""Pseudonymisation of personal data (product.md §7): HMAC-SHA256 under a key never stored in the repo."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd


def pseudonymise(values: pd.Series, key: bytes) -> pd.Series:
    """Hex HMAC-SHA256 of each value; blanks stay missing. Same key and value give the same token (the
    readers have NFKC-normalised every cell: a NIP in fullwidth digits is the same NIP in ASCII)."""

    def token(value: object) -> str | None:
        if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
            return None
        text = str(value).strip()
        if not text:
            return None
        return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    return values.map(token).astype("object")


def mask_format(values: pd.Series) -> pd.Series:
    """Keep only the shape of a value (digits -> 9, letters -> A) so validation can check a format, such
    as 18 digits for a NIP, without the value itself reaching a validation result or Data Docs."""
    text = values.astype("string")
    # Only ASCII digits are digits of a NIP: an Arabic-Indic or Devanagari digit keeps another shape (`#`).
    shaped = text.str.replace(r"[0-9]", "9", regex=True).str.replace(r"[^\W\d_]", "A", regex=True)
    return shaped.str.replace(r"[^\x00-\x7f]", "#", regex=True)
