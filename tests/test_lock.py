import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("lock", ROOT / "tools" / "lock.py")
lock = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lock)


def test_lock_matches_its_source_list():
    assert lock.check_lock() == []


def test_drift_is_detected_when_the_source_list_changes(tmp_path):
    source = tmp_path / "requirements.in"
    source.write_text((ROOT / "requirements.in").read_text() + "rich-click==1.8.0\n")
    problems = lock.check_lock(source, ROOT / "requirements.lock")
    assert any("changed since" in p for p in problems)
    assert any("rich-click" in p and "not pinned" in p for p in problems)


def test_a_pin_that_violates_the_source_list_is_detected(tmp_path):
    source = tmp_path / "requirements.in"
    source.write_text("pandas<3\n")
    lock_file = tmp_path / "requirements.lock"
    lock_file.write_text(f"{lock.HEADER}{lock.source_digest(source)}\npandas==3.1.1\n")
    assert lock.check_lock(source, lock_file) == ["pandas==3.1.1 in requirements.lock does not satisfy pandas<3"]
