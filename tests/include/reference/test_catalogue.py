"""The instansi resolver on spellings offices really write, and the traps it must never fall into."""

import pytest

from include.netralitas.reference.catalogue import load_catalogue, normalise_name

RESOLVES = [
    ("Pemkab Halmahera Selatan", "82.04"),
    ("Pemerintah Kabupaten Halmahera Selatan", "82.04"),
    ("Kab. Halsel", "82.04"),
    ("Halsel", "82.04"),
    ("PEMKAB HALMAHERA SELATAN", "82.04"),
    ("  pemkab   halmahera  selatan ", "82.04"),
    ("Pemkab\u00a0Halmahera\u00a0Selatan", "82.04"),
    ("Pemkab Halmahera\u200bSelatan", "82.04"),
    ("Pemprov NTB", "52"),
    ("Pemerintah Provinsi Nusa Tenggara Barat", "52"),
    ("Prov. Sultra", "74"),
    ("Sultra", "74"),
    ("Pemprov Maluku Utara", "82"),
    ("Kemenag", "KEMENAG"),
    ("KEMENAG", "KEMENAG"),
    ("Kementerian Agama", "KEMENAG"),
    ("Kemendikbud", "KEMENDIKBUD"),
    ("Kemendikbudristek", "KEMENDIKBUD"),
    ("Kota Bima", "52.72"),
    ("Pemkot Bima", "52.72"),
    ("Kabupaten Bima", "52.06"),
    ("Kab. Bima", "52.06"),
    ("Kabupaten Muna", "74.03"),
    ("Kabupaten Muna Barat", "74.13"),
    ("Kabupaten Kediri", "35.06"),
    ("Kota Kediri", "35.71"),
    ("Pemerintah Kota Jakarta Selatan", "31.74"),
    ("Kota Administrasi Jakarta Selatan", "31.74"),
    ("Pemprov DKI Jakarta", "31"),
    ("Pemkot Yogyakarta", "34.71"),
    ("Pemprov DIY", "34"),
    ("Pemerintah Kab. Halmahera Selatan", "82.04"),
    ("PEMKAB. HALSEL", "82.04"),
    ("Kabupaten Halmahera Selatan", "82.04"),
    ("Halmahera Selatan", "82.04"),
    ("Pemkab Halmahera Utara", "82.03"),
    ("Kab. Halut", "82.03"),
    ("Pemprov Malut", "82"),
    ("Provinsi Maluku Utara", "82"),
    ("Pemerintah Provinsi Sulawesi Tenggara", "74"),
    ("Pemprov. Sultra", "74"),
    ("Pemprov Sulsel", "73"),
    ("Pemprov Jabar", "32"),
    ("Pemprov Jateng", "33"),
    ("Pemprov Jatim", "35"),
    ("Pemprov NTT", "53"),
    ("Pemerintah Provinsi DKI Jakarta", "31"),
    ("Pemkot Kediri", "35.71"),
    ("Pemkab Kediri", "35.06"),
    ("Kota Administrasi Jakarta Pusat", "31.71"),
    ("Pemkot Jakarta Utara", "31.72"),
    ("Kab. Kepulauan Seribu", "31.01"),
    ("Kabupaten Administrasi Kepulauan Seribu", "31.01"),
    ("Pemerintah Kota Bima", "52.72"),
    ("Pemkab Muna Barat", "74.13"),
    ("Kab Muna", "74.03"),
    ("Pemkab Banggai", "72.01"),
    ("Pemkab Banggai Kepulauan", "72.07"),
    ("Pemkab Banggai Laut", "72.11"),
    ("Kabupaten Buton", "74.04"),
    ("Kabupaten Buton Utara", "74.10"),
    ("Kemenkes", "KEMENKES"),
    ("KEMENDAGRI", "KEMENDAGRI"),
    ("Kementerian Pendidikan dan Kebudayaan", "KEMENDIKBUD"),
    ("kemenag ", "KEMENAG"),
    ("Kemenag.", "KEMENAG"),
    ("BKN", "BKN"),
]
AMBIGUOUS = [
    ("Bima", {"52.06", "52.72"}),
    ("Kediri", {"35.06", "35.71"}),
    ("Pemda Bima", {"52.06", "52.72"}),
    ("Gorontalo", {"75", "75.01", "75.71"}),
    ("Yogyakarta", {"34", "34.71"}),
    ("Pemda Kediri", {"35.06", "35.71"}),
    ("Bengkulu", {"17", "17.71"}),
    ("Jambi", {"15", "15.71"}),
]


@pytest.mark.parametrize(("written", "kode"), RESOLVES)
def test_resolves(written, kode):
    assert load_catalogue().resolve(written).kode == kode


@pytest.mark.parametrize(("written", "candidates"), AMBIGUOUS)
def test_ambiguous_names_are_never_guessed(written, candidates):
    resolution = load_catalogue().resolve(written)
    assert resolution.kode is None
    assert set(resolution.candidates) == candidates
    assert "ambigu" in resolution.reason


@pytest.mark.parametrize(
    "written",
    ["Pemkab Atlantis", "Kabupaten Muna Timur", "Kemen Entah", "", None, "Pemkab Halmahera", "Kemenag Kota Bima",
     "Pemkot Halmahera Selatan", "Pemprov Kediri"],
)  # fmt: skip
def test_unknown_names_are_reported(written):
    resolution = load_catalogue().resolve(written)
    assert resolution.kode is None
    assert resolution.reason


def test_the_table_holds_at_least_60_real_world_spellings():
    assert len(RESOLVES) + len(AMBIGUOUS) >= 60


def test_catalogue_covers_every_region_and_names_instansi_in_full():
    cat = load_catalogue()
    assert len(cat.regions) == 552
    assert cat.instansi["82.04"].nama == "Pemerintah Kabupaten Halmahera Selatan"
    assert cat.instansi["82"].nama == "Pemerintah Provinsi Maluku Utara"
    assert cat.instansi["82.04"].nama_provinsi == "Maluku Utara"
    assert sum(1 for i in cat.instansi.values() if i.jenis == "provinsi") == 38


def test_operator_aliases_file_adds_a_mapping(tmp_path):
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("alias,instansi_kode,catatan\nBawaslu Halsel Pemda,82.04,seen in 2024 reports\n")
    assert load_catalogue(aliases).resolve("bawaslu halsel pemda").kode == "82.04"
    assert load_catalogue().resolve("bawaslu halsel pemda").kode is None


def test_alias_to_an_unknown_instansi_is_refused(tmp_path):
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("alias,instansi_kode,catatan\nX,99.99,\n")
    with pytest.raises(ValueError, match="unknown instansi_kode"):
        load_catalogue(aliases)


def test_normalise_name():
    assert normalise_name(" Kab.\u00a0Halmahera–Selatan ") == "kab halmahera selatan"
