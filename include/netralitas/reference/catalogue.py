"""The instansi catalogue (product.md §3.3) and the resolver of the names offices really write.

Built from the reference regions (38 provinces, 514 regencies and cities; ODbL, see
`reference/idn-area-data/README.md`) plus the curated central agencies. Resolution is exact after
normalisation, never fuzzy: `Kabupaten Muna` and `Kabupaten Muna Barat` can never merge, and a name that
fits several instansi (a bare `Bima`: Kabupaten and Kota) is reported as ambiguous with its candidates.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent
REGIONS_DIR = REFERENCE_DIR / "idn-area-data"

JENIS_PROVINSI = "provinsi"
JENIS_KABUPATEN = "kabupaten"
JENIS_KOTA = "kota"
JENIS_PUSAT = "pusat"
REGIONAL_JENIS = (JENIS_PROVINSI, JENIS_KABUPATEN, JENIS_KOTA)


@dataclass(frozen=True)
class Region:
    kode: str
    nama: str
    kode_provinsi: str
    tingkat: str  # "provinsi" or "kabupaten_kota"


@dataclass(frozen=True)
class Instansi:
    kode: str
    nama: str
    jenis: str
    kode_provinsi: str | None
    nama_provinsi: str | None


@dataclass(frozen=True)
class Resolution:
    kode: str | None
    candidates: tuple[str, ...] = ()
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.kode is not None


# Prefixes as written, longest first; `None` means the kind of government is not said.
_PREFIXES: tuple[tuple[str, str | None], ...] = (
    ("pemerintah daerah provinsi", JENIS_PROVINSI),
    ("pemerintah provinsi", JENIS_PROVINSI),
    ("pemerintah prov", JENIS_PROVINSI),
    ("pemda provinsi", JENIS_PROVINSI),
    ("pemprov", JENIS_PROVINSI),
    ("provinsi", JENIS_PROVINSI),
    ("prov", JENIS_PROVINSI),
    ("pemerintah daerah kabupaten", JENIS_KABUPATEN),
    ("pemerintah kabupaten", JENIS_KABUPATEN),
    ("pemerintah kab", JENIS_KABUPATEN),
    ("pemda kabupaten", JENIS_KABUPATEN),
    ("pemda kab", JENIS_KABUPATEN),
    ("pemkab", JENIS_KABUPATEN),
    ("kabupaten", JENIS_KABUPATEN),
    ("kab", JENIS_KABUPATEN),
    ("pemerintah daerah kota", JENIS_KOTA),
    ("pemerintah kota", JENIS_KOTA),
    ("pemda kota", JENIS_KOTA),
    ("pemkot", JENIS_KOTA),
    ("kota", JENIS_KOTA),
    ("pemerintah daerah", None),
    ("pemda", None),
)
# Zero-width joiners and soft hyphens vanish; a zero-width space stands where a space was meant.
_INVISIBLE = {**dict.fromkeys(map(ord, "\u200c\u200d\u2060\ufeff\u00ad"), None), 0x200B: " "}
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACES = re.compile(r"\s+")


def normalise_name(text: str) -> str:
    """Case, punctuation, non-breaking and zero-width spaces and repeated spaces never matter."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).casefold()
    text = _PUNCT.sub(" ", text.replace("_", " "))
    return _SPACES.sub(" ", text).strip()


def _strip_region_kind(nama: str) -> tuple[str, str]:
    """`Kabupaten Administrasi Kepulauan Seribu` -> (kabupaten, `Kepulauan Seribu`)."""
    for prefix, jenis in (("Kabupaten ", JENIS_KABUPATEN), ("Kota ", JENIS_KOTA)):
        if nama.startswith(prefix):
            body = nama[len(prefix) :]
            return jenis, body.removeprefix("Administrasi ")
    raise ValueError(f"regency name without Kabupaten/Kota: {nama!r}")


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass
class Catalogue:
    regions: dict[str, Region]
    instansi: dict[str, Instansi]
    _by_name: dict[str, str] = field(default_factory=dict)  # normalised full name or alias -> kode
    _by_body: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (jenis, body) -> kodes
    _abbreviations: dict[str, str] = field(default_factory=dict)

    def resolve(self, text: str | None) -> Resolution:
        if text is None or not normalise_name(text):
            return Resolution(None, reason="instansi kosong")
        name = normalise_name(text)
        if name in self._by_name:
            return Resolution(self._by_name[name])
        jenis, body = self._split_prefix(name)
        bodies = {body, normalise_name(self._abbreviations.get(body, body))}
        kinds = (jenis,) if jenis else REGIONAL_JENIS
        found = sorted({k for b in bodies for j in kinds for k in self._by_body.get((j, b), ())})
        if len(found) == 1:
            return Resolution(found[0])
        if found:
            names = ", ".join(self.instansi[k].nama for k in found)
            return Resolution(None, tuple(found), f"instansi ambigu: {text!r} cocok dengan {names}")
        return Resolution(None, reason=f"instansi tidak dikenal: {text!r}")

    @staticmethod
    def _split_prefix(name: str) -> tuple[str | None, str]:
        for prefix, jenis in _PREFIXES:
            if name.startswith(prefix + " "):
                return jenis, name[len(prefix) + 1 :]
        return None, name

    def add_alias(self, alias: str, kode: str) -> None:
        if kode not in self.instansi:
            raise ValueError(f"alias {alias!r} points to unknown instansi_kode {kode!r}")
        self._by_name[normalise_name(alias)] = kode


def _build(aliases_file: Path | None) -> Catalogue:
    provinces = _read_csv(REGIONS_DIR / "provinces.csv")
    regencies = _read_csv(REGIONS_DIR / "regencies.csv")
    regions: dict[str, Region] = {}
    instansi: dict[str, Instansi] = {}
    cat = Catalogue(regions, instansi)
    province_names = {p["code"]: p["name"] for p in provinces}
    for p in provinces:
        regions[p["code"]] = Region(p["code"], p["name"], p["code"], "provinsi")
        nama = f"Pemerintah Provinsi {p['name']}"
        instansi[p["code"]] = Instansi(p["code"], nama, JENIS_PROVINSI, p["code"], p["name"])
        cat._by_body.setdefault((JENIS_PROVINSI, normalise_name(p["name"])), set()).add(p["code"])
    for r in regencies:
        regions[r["code"]] = Region(r["code"], r["name"], r["province_code"], "kabupaten_kota")
        jenis, body = _strip_region_kind(r["name"])
        prov = province_names[r["province_code"]]
        instansi[r["code"]] = Instansi(r["code"], f"Pemerintah {r['name']}", jenis, r["province_code"], prov)
        for variant in {body, r["name"].split(" ", 1)[1]}:
            cat._by_body.setdefault((jenis, normalise_name(variant)), set()).add(r["code"])
    for row in _read_csv(REFERENCE_DIR / "central_agencies.csv"):
        instansi[row["kode"]] = Instansi(row["kode"], row["nama"], JENIS_PUSAT, None, None)
        for alias in [row["nama"], *filter(None, row["alias"].split("|"))]:
            cat.add_alias(alias, row["kode"])
    for item in instansi.values():
        cat._by_name.setdefault(normalise_name(item.nama), item.kode)
    for row in _read_csv(REFERENCE_DIR / "region_abbreviations.csv"):
        cat._abbreviations[normalise_name(row["singkatan"])] = row["nama"]
    for path in (REFERENCE_DIR / "instansi_aliases.csv", aliases_file):
        if path is not None and path.exists():
            for row in _read_csv(path):
                cat.add_alias(row["alias"], row["instansi_kode"])
    return cat


def load_catalogue(aliases_file: Path | None = None) -> Catalogue:
    """The catalogue with the bundled aliases and, if given, an operator's mappings file (re-read when the
    file changes, so a replay after adding an alias sees it)."""
    stamp = aliases_file.stat().st_mtime_ns if aliases_file is not None and aliases_file.exists() else None
    return _cached_catalogue(aliases_file, stamp)


@cache
def _cached_catalogue(aliases_file: Path | None, stamp: int | None) -> Catalogue:
    return _build(aliases_file)
