"""Compute a per-value function once per distinct value of a column (ingestion's hot path, docs/performance.md).

A week's columns repeat the same few spellings (an instansi, an election, a date, a NIP that appears in several
reports): resolving, pseudonymising or parsing each distinct value once and spreading the results back by
position gives the same column as applying the function to every cell, in a fraction of the time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from collections.abc import Callable


def map_distinct(values: pd.Series, fn: Callable[[object], object], missing: object = None) -> pd.Series:
    """`values.map(fn)` for present cells and `missing` for missing ones (None, NaN, NA), as an object column
    with the same index; `fn` runs once per distinct present value."""
    codes, uniques = pd.factorize(values.astype("object"), use_na_sentinel=True)
    results = np.empty(len(uniques) + 1, dtype=object)
    results[: len(uniques)] = [fn(v) for v in uniques]
    results[-1] = missing  # code -1, a missing cell
    return pd.Series(results[codes], index=values.index, dtype="object")


def apply_distinct(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """`fn(values)` for a vectorised `fn` that maps each cell on its own, computed on the distinct values only
    (missing cells included once) and spread back; keeps `fn`'s dtype and `values`' index."""
    codes, uniques = pd.factorize(values.astype("object"), use_na_sentinel=False)
    computed = fn(pd.Series(uniques, dtype="object"))
    return pd.Series(computed.array.take(codes), index=values.index, name=values.name)
