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
STATUS_NOT_COUNTED = "dihentikan"

PENERBIT: tuple[str, ...] = ("BAWASLU", "KASN", "BKN")
RELEASE_META_FIELDS: tuple[str, ...] = ("penerbit", "judul", "tanggal_data", "pemilihan")
RELEASE_COLUMNS: tuple[str, ...] = ("instansi", "jumlah", "peringkat", "provinsi")
RELEASE_REQUIRED: tuple[str, ...] = ("instansi", "jumlah")

EARLIEST_CASE_DATE = "2015-01-01"

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
