"""The input contracts of product.md §3: column names and code lists, shared by readers and suites."""

from __future__ import annotations

import re
import unicodedata

CASE_REPORT_CONTRACT = "case-report/v1"
NATIONAL_RELEASE_CONTRACT = "national-release/v1"

CASE_COLUMNS: tuple[str, ...] = (
    "kode_kantor",
    "nomor_kasus",
    "tanggal_temuan",
    "pemilihan",
    "instansi",
    "nip",
    "nama_terlapor",
    "jabatan",
    "jenis_pelanggaran",
    "status",
)
# Columns a batch cannot be read without; `nip` and `nama_terlapor` may be absent or blank.
CASE_REQUIRED: tuple[str, ...] = (
    "kode_kantor",
    "nomor_kasus",
    "tanggal_temuan",
    "pemilihan",
    "instansi",
    "jabatan",
    "jenis_pelanggaran",
    "status",
)
PERSONAL_COLUMNS: tuple[str, ...] = ("nip", "nama_terlapor")

PEMILIHAN: tuple[str, ...] = (
    "PILKADA-2018",
    "PEMILU-2019",
    "PILKADA-2020",
    "PEMILU-2024",
    "PILKADA-2024",
)
PEMILIHAN_ALL = "SEMUA"
PEMILIHAN_LABELS: dict[str, str] = {
    "PILKADA-2018": "Pilkada 2018",
    "PEMILU-2019": "Pemilu 2019",
    "PILKADA-2020": "Pilkada 2020",
    "PEMILU-2024": "Pemilu 2024",
    "PILKADA-2024": "Pilkada 2024",
    PEMILIHAN_ALL: "Semua pemilihan",
}
JABATAN: tuple[str, ...] = (
    "JPT",
    "administrator",
    "pengawas",
    "fungsional",
    "pelaksana",
    "kepala_wilayah",
)
JENIS_PELANGGARAN: tuple[str, ...] = (
    "kampanye_medsos",
    "menghadiri_kampanye",
    "pendekatan_parpol",
    "memasang_apk",
    "keputusan_menguntungkan",
    "ikut_deklarasi",
    "lainnya",
)
STATUS: tuple[str, ...] = ("diproses", "dihentikan", "direkomendasikan", "sanksi")

PENERBIT: tuple[str, ...] = ("BAWASLU", "KASN", "BKN")
RELEASE_META_FIELDS: tuple[str, ...] = ("penerbit", "judul", "tanggal_data", "pemilihan")
RELEASE_COLUMNS: tuple[str, ...] = ("instansi", "jumlah", "peringkat", "provinsi")
RELEASE_REQUIRED: tuple[str, ...] = ("instansi", "jumlah")

EARLIEST_CASE_DATE = "2015-01-01"

# --- Counts and ranks of a national release (`jumlah`, `peringkat`) -------------------------------------------
# The one rule for a release's numbers, decided by the `national_release_v1` suite (validation.py) and
# described in docs/runbook.md ("National release counts and ranks"):
# - ASCII digits only (`NUMBER_TEXT`; leading zeros are harmless): no sign, decimal, space or separator.
#   `1.234`, `1,234`, `1 234` are ambiguous (Indonesian writes `.` for thousands, other exports for the
#   decimal point) and get their own reason (`THOUSANDS_GROUPED`), as do negative numbers (`NEGATIVE`) and
#   non-ASCII digits such as Arabic-Indic or Devanagari ones (`NON_ASCII_DIGIT`; fullwidth digits are ASCII
#   once the readers NFKC-normalise a cell);
# - a sane range: `jumlah` 0..MAX_RELEASE_COUNT, `peringkat` 1..MAX_RELEASE_RANK, checked on the number that
#   `release_number` derives without ever overflowing. Both bounds fit the 32-bit INTEGER columns of
#   staging and core, so nothing that passes can overflow an insert.
MAX_RELEASE_COUNT = 100_000  # violations of one instansi in one release: far above any real figure
MAX_RELEASE_RANK = 10_000  # a rank among instansi (there are about 600)
NUMBER_DIGITS = 15  # exact in an int64 and in a float64
TOO_LONG = float(10**NUMBER_DIGITS)  # the number of a longer text: above every bound, never parsed
NUMBER_TEXT = r"^[0-9]+$"
_NEGATIVE = r"\s*[-\u2212\u2013]\s*[0-9]"  # -5, - 5, −5 (minus sign), –5 (en dash)
_THOUSANDS = r"[0-9]{1,3}(?:[., \u00a0\u202f][0-9]{3})+"  # 1.234, 1,234, 1 234, 12.345.678
NEGATIVE = f"^{_NEGATIVE}"
THOUSANDS_GROUPED = f"^{_THOUSANDS}$"
NON_ASCII_DIGIT = r"(?![0-9])\d"  # a decimal digit of any script but ASCII: ١٢٣, १२३
# The shape rule: ASCII digits, or one of the shapes above (each quarantined with its own, clearer reason,
# so that a value gets one reason, not two).
NUMBER_SHAPE = rf"(?s)^(?:[0-9]+|{_NEGATIVE}.*|{_THOUSANDS}|.*{NON_ASCII_DIGIT}.*)$"


def release_number(value: object) -> float | None:
    """The number of a count or rank written as `NUMBER_TEXT` (else None: another rule quarantines it), for
    the bound check; `TOO_LONG` beyond `NUMBER_DIGITS` significant digits, so that no text can overflow."""
    written = value if isinstance(value, str) else "" if value is None else str(value)  # NaN: "nan"
    if not re.match(NUMBER_TEXT, written):
        return None
    digits = written.strip().lstrip("0") or "0"
    return float(int(digits)) if len(digits) <= NUMBER_DIGITS else TOO_LONG


_PEMILIHAN_FORM = re.compile(r"^\s*(pilkada|pemilu)[\s_\-]*(\d{4})\s*$", re.IGNORECASE)


def normalise_pemilihan(value: str | None) -> str | None:
    """`Pilkada 2020`, `pilkada_2020` and `PILKADA-2020` all become `PILKADA-2020`; others stay as written."""
    if value is None:
        return None
    if value.strip().upper() == PEMILIHAN_ALL:
        return PEMILIHAN_ALL
    match = _PEMILIHAN_FORM.match(value)
    if not match:
        return value.strip()
    return f"{match.group(1).upper()}-{match.group(2)}"


def normalise_header(name: str) -> str:
    """Header names are case-insensitive; surrounding spaces, a stray BOM, zero-width characters and
    compatibility forms (fullwidth letters) are ignored."""
    name = unicodedata.normalize("NFKC", name)
    return re.sub("[\u200b\u200c\u200d\u2060\ufeff\u00ad]", "", name).strip().lower()
