"""`gateway central-sink` started with a wrong --password-file or --db: an error line naming the
file and what to do, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import EX_CONFIG


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except Exception as exc:  # what the operator sees is Python's traceback
        pytest.fail(f"`gateway {' '.join(argv)}` ended in a traceback: {exc!r}")


def test_central_sink_with_a_missing_password_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The centre's operator starts `gateway central-sink --username central --password-file
    central.pw` with the file not copied yet (or a typo): the command died with Python's
    FileNotFoundError traceback. It exits 78 (a setup error) naming the file and what to do."""
    missing = tmp_path / "central.pw"
    db = str(tmp_path / "central.db")
    rc = _run(
        ["central-sink", "--db", db, "--username", "u", "--password-file", str(missing), "--stop-after", "1"]
    )
    err = capsys.readouterr().err
    assert rc == EX_CONFIG and str(missing) in err and "--password-file" in err, (rc, err)
    assert not (tmp_path / "central.db").exists()  # nothing made before the setup is right


def test_central_sink_with_a_db_in_a_missing_folder_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The centre's operator starts `gateway central-sink --db /srv/central/central.db` before
    making /srv/central: the error read "the site's database: unable to open database file ...
    free disk space in the data directory": no file named, and a data directory the sink does not
    have. It names the --db file it cannot open and says to make its folder."""
    db = tmp_path / "srv" / "central" / "central.db"
    rc = _run(["central-sink", "--db", str(db), "--stop-after", "1"])
    err = capsys.readouterr().err
    assert rc == EX_CONFIG, (rc, err)
    assert str(db) in err and "--db" in err, err
    assert "data directory" not in err, err


def test_central_sink_with_a_password_file_it_cannot_read_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "secrets"  # --password-file given the folder, not the file in it
    folder.mkdir()
    db = str(tmp_path / "central.db")
    rc = _run(
        ["central-sink", "--db", db, "--username", "u", "--password-file", str(folder), "--stop-after", "1"]
    )
    err = capsys.readouterr().err
    assert rc == EX_CONFIG and f"--password-file {folder}" in err and "fix:" in err, (rc, err)


def test_central_sink_with_a_db_that_is_not_a_database_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "central.db"
    db.write_bytes(b"not an SQLite file, but something else entirely; " * 100)
    rc = _run(["central-sink", "--db", str(db), "--stop-after", "1"])
    err = capsys.readouterr().err
    assert rc == EX_CONFIG, (rc, err)
    assert f"--db {db}" in err and "give --db another file" in err, err


@pytest.mark.parametrize("port", ["80800", "0"])
def test_central_sink_with_a_port_out_of_range_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], port: str
) -> None:
    """`--port 80800` (a typo for 8080 or 1883) was not refused: the sink tried a port it had made
    of it, logging "connection refused ... check [mqtt] host and port" (a gateway's config, not the
    sink's arguments) until stopped, with exit 0."""
    db = tmp_path / "central.db"
    rc = _run(["central-sink", "--db", str(db), "--port", port, "--stop-after", "1"])
    err = capsys.readouterr().err
    assert rc == EX_CONFIG and f"--port {port}" in err and "65535" in err, (rc, err)
    assert not db.exists()
