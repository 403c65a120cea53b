"""A CSV given to `gateway import` or `gateway import-inside` that cannot be opened (not there, or in
a home folder of mode 700 with the command run as `sudo -u estate-gateway`) was called "1 bad
row(s)", exit 65, "fix: correct these rows": it is said of the file, with the system's reason and a
fix about its path or permissions, exit 66 (EX_NOINPUT); nothing is imported, as before."""

from __future__ import annotations

import io
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli import EX_NOINPUT, main
from tests.conftest import site_toml, write_csv
from tests.nobody import as_nobody, needs_root

RESIDENTS = """
ref,building,unit,room,name,phone
R1,3栋,2单元,301,张三,13812345678
"""


def _residents(config: Path) -> int:
    db = config.parent / "data" / "gateway.db"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM residents").fetchone()[0])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    return path


def test_a_missing_csv_is_said_of_the_file_not_as_a_bad_row(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    good = write_csv(tmp_path / "people.csv", RESIDENTS)
    assert main(["import", "-c", str(config), str(good), "cars.csv"]) == EX_NOINPUT
    err = capsys.readouterr().err
    assert "cannot open cars.csv: No such file or directory; nothing was imported" in err
    assert "bad row" not in err and "correct these rows" not in err
    fix = "fix: check the file's name and folder (ls -l cars.csv); a relative path is from the folder"
    assert f"{fix} the command is run in, here {tmp_path}" in err
    assert _residents(config) == 0


def test_two_missing_csvs_are_named_each(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["import", "-c", str(config), str(a), str(b)]) == EX_NOINPUT
    err = capsys.readouterr().err
    assert "cannot open 2 files; nothing was imported:" in err
    assert f"cannot open {a}: No such file or directory; fix: check the file's name" in err
    assert f"cannot open {b}: No such file or directory" in err


def test_a_missing_inside_csv_is_said_of_the_file(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "inside.csv"
    assert main(["import-inside", "-c", str(config), str(missing)]) == EX_NOINPUT
    err = capsys.readouterr().err
    assert f"cannot open {missing}: No such file or directory; nothing was recorded" in err
    assert "bad row" not in err and "correct these rows" not in err


def test_a_folder_given_for_a_csv_is_told_to_give_the_files(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    assert main(["import", "-c", str(config), str(folder)]) == EX_NOINPUT
    assert f"fix: give the CSV files in the folder ({folder}/...), not the folder" in capsys.readouterr().err


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder user nobody may write in (pytest's own tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="fix53-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder)


def _main_as_nobody(argv: list[str]) -> tuple[int, str]:
    """main(argv) in a child that is user nobody: its exit status and what it wrote to stderr."""
    # What the command imports is imported here first: nobody may not read this Python's own
    # library (one installed under /root), and the modules the command loads as it goes were
    # loaded in this process only where another test ran before.
    with tempfile.TemporaryDirectory() as warm:
        config = Path(warm) / "site.toml"
        config.write_text(site_toml(Path(warm) / "data"), encoding="utf-8")
        main([argv[0], "-c", str(config), str(Path(warm) / "none.csv")])

    def run() -> str:
        sys.stderr = io.StringIO()
        code = main(argv)
        return f"{code}\n{sys.stderr.getvalue()}"

    out = as_nobody(run)
    code, _, err = out.partition("\n")
    return int(code), err


@needs_root
def test_a_csv_the_user_may_not_read_says_how_to_let_it(shared: Path) -> None:
    config = shared / "site.toml"
    config.write_text(site_toml(shared / "data"), encoding="utf-8")
    home = shared / "home"
    home.mkdir(mode=0o700)  # the installer's home; the command runs as another user
    csv_file = write_csv(home / "residents.csv", RESIDENTS)
    code, err = _main_as_nobody(["import", "-c", str(config), str(csv_file)])
    assert code == EX_NOINPUT, err
    assert f"cannot open {csv_file}: Permission denied; nothing was imported" in err
    assert "bad row" not in err
    assert (
        f"sudo install -o nobody -m 600 {csv_file} /tmp/residents.csv, import /tmp/residents.csv, then "
        "delete the copy" in err
    )
    assert _residents(config) == 0
