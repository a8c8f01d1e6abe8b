"""A seeded generator of synthetic but realistic sample data (for the demo, the tests and the benchmark).

Every one of the 552 offices of the reference (38 province and 514 regency/city Bawaslu offices) drops a case
report; the files look like what offices really send (UTF-8 or Excel's Windows-1252 / BOM exports, `,` or `;`
delimited, ISO or `DD/MM/YYYY` dates, some JSON), a few offices send a later report that updates case
statuses, a few rows are wrong the way real rows are, and one national release lists the top instansi.
The same seed always writes the same bytes. Names and NIPs are invented.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from include.netralitas.contracts import CASE_COLUMNS, JABATAN, JENIS_PELANGGARAN
from include.netralitas.reference.catalogue import JENIS_PUSAT, load_catalogue
from include.netralitas.weeks import WIB

DEMO_WEEK = "2024-W48"

# Election periods in which cases are found (first, last day).
ELECTION_PERIODS: dict[str, tuple[date, date]] = {
    "PILKADA-2018": (date(2018, 2, 15), date(2018, 6, 27)),
    "PEMILU-2019": (date(2018, 9, 23), date(2019, 4, 17)),
    "PILKADA-2020": (date(2020, 9, 26), date(2020, 12, 9)),
    "PEMILU-2024": (date(2023, 11, 28), date(2024, 2, 14)),
    "PILKADA-2024": (date(2024, 8, 27), date(2024, 11, 24)),
}
ELECTION_WEIGHTS = {
    "PILKADA-2018": 1,
    "PEMILU-2019": 2,
    "PILKADA-2020": 2,
    "PEMILU-2024": 3,
    "PILKADA-2024": 6,
}
PEMILIHAN_SPELLINGS = {
    "PILKADA-2018": ["PILKADA-2018", "Pilkada 2018"],
    "PEMILU-2019": ["PEMILU-2019", "Pemilu 2019"],
    "PILKADA-2020": ["PILKADA-2020", "Pilkada 2020"],
    "PEMILU-2024": ["PEMILU-2024", "Pemilu 2024"],
    "PILKADA-2024": ["PILKADA-2024", "Pilkada 2024"],
}
STATUS_WEIGHTS = {"diproses": 3, "dihentikan": 2, "direkomendasikan": 4, "sanksi": 3}
FIRST_NAMES = [
    "Agus",
    "Ahmad",
    "Andi",
    "Budi",
    "Dedi",
    "Dewi",
    "Eko",
    "Fajar",
    "Fitri",
    "Hendra",
    "Indah",
    "Irwan",
    "Joko",
    "Kartika",
    "Lestari",
    "Muhammad",
    "Nur",
    "Putri",
    "Rahmat",
    "Rina",
    "Siti",
    "Sri",
    "Taufik",
    "Wahyu",
    "Yuni",
    "Zainal",
    "Hasan",
    "Ikhsan",
    "Marlina",
    "Yusuf",
]
LAST_NAMES = [
    "Saputra",
    "Hidayat",
    "Pratama",
    "Wijaya",
    "Kurniawan",
    "Siregar",
    "Nasution",
    "Harahap",
    "Lubis",
    "Simanjuntak",
    "Sitompul",
    "Rahman",
    "Syahputra",
    "Wibowo",
    "Santoso",
    "Setiawan",
    "Susanto",
    "Tanjung",
    "Hutapea",
    "Manurung",
    "Lestari",
    "Fitriani",
    "Sari",
    "Utami",
    "Hasibuan",
]
CENTRAL_WEIGHTS = {"KEMENAG": 0.8, "KEMENDIKBUD": 0.5, "KEMENKES": 0.2, "KEMENDAGRI": 0.15, "KEMENTAN": 0.15}


@dataclass(frozen=True)
class SampleSummary:
    case_files: int
    case_rows: int
    release_files: int


def _spell_instansi(rng: random.Random, kode: str) -> str:
    cat = load_catalogue()
    item = cat.instansi[kode]
    if item.jenis == JENIS_PUSAT:
        alias = {"KEMENAG": "Kemenag", "KEMENDIKBUD": "Kemendikbud"}.get(kode, item.nama)
        return rng.choice([item.nama, alias, alias.upper()])
    body = item.nama.split(" ", 2)[2]  # Pemerintah Kabupaten <body>
    short = {"provinsi": ["Pemprov", "Prov."], "kabupaten": ["Pemkab", "Kab."], "kota": ["Pemkot", "Kota"]}
    return rng.choice([item.nama, f"{rng.choice(short[item.jenis])} {body}", item.nama.upper()])


def _nip(rng: random.Random) -> str:
    born = date(1965, 1, 1) + timedelta(days=rng.randrange(365 * 32))
    appointed = born.year + rng.randint(22, 30)
    return f"{born:%Y%m%d}{appointed}{rng.randint(1, 12):02d}{rng.randint(1, 2)}{rng.randint(1, 999):03d}"


def _office_instansi(rng: random.Random, kode_kantor: str) -> list[tuple[str, float]]:
    """Where an office's cases come from: its own government mostly, some central agencies."""
    cat = load_catalogue()
    own = [(kode_kantor, 10.0)]
    if "." not in kode_kantor:  # a province office also reports cases in the province's regencies
        own += [(k, 1.5) for k, r in cat.regions.items() if r.kode_provinsi == kode_kantor and k != kode_kantor]
    return own + [(k, float(w)) for k, w in CENTRAL_WEIGHTS.items()]


def _write_csv(path: Path, rows: list[dict[str, str]], *, style: str, mtime: datetime) -> None:
    delimiter = ";" if style in ("excel-1252", "excel-bom") else ","
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(CASE_COLUMNS), delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        if style != "plain":
            y, m, d = row["tanggal_temuan"].split("-")
            row = {**row, "tanggal_temuan": f"{d}/{m}/{y}"}
        writer.writerow(row)
    encoding = {"excel-1252": "cp1252", "excel-bom": "utf-8-sig"}.get(style, "utf-8")
    path.write_bytes(buffer.getvalue().encode(encoding))
    _touch(path, mtime)


def _touch(path: Path, moment: datetime) -> None:
    stamp = moment.timestamp()
    os.utime(path, (stamp, stamp))


def generate_sample(
    drop_dir: Path,
    *,
    seed: int = 2024,
    total_cases: int = 3000,
    api_rows: dict[str, list[dict[str, str]]] | None = None,
) -> SampleSummary:
    """Write case reports for all 552 offices and one national release into `drop_dir`.

    With `api_rows`, about one office in ten reports through its API instead: its rows (stamped with
    `diterima_pada`) go into that dict, for `office_api.SampleOfficeApi` to serve; the data is the same.
    """
    rng = random.Random(seed)
    cat = load_catalogue()
    case_dir = drop_dir / "case-reports"
    release_dir = drop_dir / "national-releases"
    case_dir.mkdir(parents=True, exist_ok=True)
    release_dir.mkdir(parents=True, exist_ok=True)
    offices = sorted(cat.regions)
    # Skewed activity: a few offices report many cases, most a handful, some none.
    activity = {k: rng.lognormvariate(0, 1.1) for k in offices}
    scale = total_cases / sum(activity.values())
    elections = list(ELECTION_WEIGHTS)
    counted_until_release: Counter[str] = Counter()
    release_date = date(2024, 11, 15)
    files = rows_written = 0
    for kode in offices:
        n = int(activity[kode] * scale + rng.random())
        sources = _office_instansi(rng, kode)
        rows: list[dict[str, str]] = []
        for i in range(n):
            pemilihan = rng.choices(elections, weights=[ELECTION_WEIGHTS[e] for e in elections])[0]
            first, last = ELECTION_PERIODS[pemilihan]
            found = first + timedelta(days=rng.randrange((last - first).days + 1))
            instansi = rng.choices([k for k, _ in sources], weights=[w for _, w in sources])[0]
            status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
            if pemilihan == "PILKADA-2024" and status != "dihentikan" and found <= release_date:
                counted_until_release[instansi] += 1
            rows.append(
                {
                    "kode_kantor": kode,
                    "nomor_kasus": f"{i + 1:03d}/PL/{'PP' if '.' not in kode else 'KK'}/{found.year}",
                    "tanggal_temuan": found.isoformat(),
                    "pemilihan": rng.choice(PEMILIHAN_SPELLINGS[pemilihan]),
                    "instansi": _spell_instansi(rng, instansi),
                    "nip": "" if rng.random() < 0.12 else _nip(rng),
                    "nama_terlapor": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    "jabatan": rng.choices(JABATAN, weights=[1, 2, 3, 5, 6, 2])[0],
                    "jenis_pelanggaran": rng.choice(JENIS_PELANGGARAN),
                    "status": status,
                }
            )
        _inject_realistic_errors(rng, rows)
        style = rng.choices(["plain", "excel-1252", "excel-bom", "json", "api"], weights=[6, 2, 1, 1, 1])[0]
        reported = datetime.combine(date(2024, 11, 25), time(9, 0), tzinfo=WIB)
        name = f"{kode}_{reported:%Y%m%d}"
        if style == "api" and (api_rows is None or not rows):
            style = "json"
        if style == "api":
            received = reported.astimezone(UTC).isoformat()
            api_rows[kode] = [{**row, "diterima_pada": received} for row in rows]
            files += 1
            rows_written += len(rows)
            continue  # an API office's status updates arrive with its next pull, not in this sample
        if style == "json":
            path = case_dir / f"{name}.json"
            path.write_text(json.dumps({"rows": rows}, ensure_ascii=False, indent=1), encoding="utf-8")
            _touch(path, reported)
        else:
            _write_csv(case_dir / f"{name}.csv", rows, style=style, mtime=reported)
        files += 1
        rows_written += len(rows)
        # A later report from some offices updates the status of earlier cases.
        open_cases = [r for r in rows if r["status"] in ("diproses", "direkomendasikan")]
        if open_cases and rng.random() < 0.1:
            updates = [
                {**r, "status": "dihentikan" if r["status"] == "diproses" else "sanksi"}
                for r in rng.sample(open_cases, k=min(len(open_cases), rng.randint(1, 3)))
            ]
            later = reported + timedelta(days=4)
            _write_csv(case_dir / f"{kode}_{later:%Y%m%d}.csv", updates, style="plain", mtime=later)
            files += 1
            rows_written += len(updates)
    _write_release(rng, release_dir, counted_until_release, release_date)
    return SampleSummary(case_files=files, case_rows=rows_written, release_files=1)


def _inject_realistic_errors(rng: random.Random, rows: list[dict[str, str]]) -> None:
    """About one row in 150 carries a mistake offices really make; validation must catch each one."""
    for row in rows:
        if rng.random() >= 1 / 150:
            continue
        kind = rng.choice(["ambiguous", "bad_date", "jabatan", "nip"])
        if kind == "ambiguous":
            row["instansi"] = rng.choice(["Bima", "Kediri", "Gorontalo"])
        elif kind == "bad_date":
            row["tanggal_temuan"] = "2024-02-31"
        elif kind == "jabatan":
            row["jabatan"] = "staf ahli"
        else:
            row["nip"] = row["nip"][:17] or "19900101201503100"


def _write_release(rng: random.Random, release_dir: Path, counted: Counter[str], as_of: date) -> None:
    cat = load_catalogue()
    top = [k for k, _ in counted.most_common(15)]
    rows = []
    for kode in top:
        rows.append({"instansi": cat.instansi[kode].nama, "jumlah": counted[kode] + rng.randint(-1, 4)})
    rows.sort(key=lambda r: (-r["jumlah"], r["instansi"]))
    rank = 0
    for position, row in enumerate(rows, start=1):
        if position == 1 or row["jumlah"] != rows[position - 2]["jumlah"]:
            rank = position
        row["peringkat"] = rank
        item = cat.instansi[next(k for k in top if cat.instansi[k].nama == row["instansi"])]
        row["provinsi"] = item.nama_provinsi or ""
    name = f"bawaslu_pilkada2024_{as_of:%Y%m%d}"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["peringkat", "instansi", "provinsi", "jumlah"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (release_dir / f"{name}.csv").write_text(buffer.getvalue(), encoding="utf-8")
    meta = {
        "penerbit": "BAWASLU",
        "judul": "Rekapitulasi Pelanggaran Netralitas ASN Pilkada Serentak 2024",
        "tanggal_data": as_of.isoformat(),
        "pemilihan": "PILKADA-2024",
    }
    (release_dir / f"{name}.meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    moment = datetime.combine(as_of + timedelta(days=3), time(10, 0), tzinfo=WIB)
    for path in (release_dir / f"{name}.csv", release_dir / f"{name}.meta.json"):
        _touch(path, moment)
