"""An import cut short whose staging file's meta page the card then damaged: it is not taken for
one that never got to its first step, deleted without a word while half of it is in the store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.cli import EX_CONFIG, main
from gateway.store import csv_staging
from tests.test_import_fix50_staging_damaged import cut_short, damage


def test_an_unfinished_import_whose_staging_meta_is_damaged_is_not_dropped_without_a_word(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """README: an import cut short is finished by the next `gateway import -c CONFIG`. Its staging
    file's meta page damaged, that command exited 0 saying nothing and deleted the file: the
    installer believed the import finished, with 2 of its 5 residents in the store. It says the
    unfinished import cannot be read (damaged), keeps the file, and exits 78."""
    config, cfg = cut_short(tmp_path, monkeypatch)
    staging = cfg.site.data_dir / "import-staging.db"
    damage(staging, "meta")
    capsys.readouterr()
    code = main(["import", "-c", str(config)])
    err = capsys.readouterr().err
    with sqlite3.connect(cfg.site.data_dir / "gateway.db") as conn:
        imported = conn.execute("SELECT COUNT(*) FROM residents WHERE ref LIKE 'N%'").fetchone()[0]
    conn.close()
    assert imported < 5  # the import is half in
    assert code == EX_CONFIG and "damaged" in err, (code, err, imported)
    assert staging.exists(), "the unfinished import's file was deleted"


def test_a_staging_file_whose_tables_were_never_made_is_none(tmp_path: Path) -> None:
    """A power cut before the staging file's tables were made (an empty file): there is no import
    to finish, and the file may go."""
    empty = tmp_path / csv_staging.STAGING_NAME
    sqlite3.connect(empty).close()
    empty.touch()
    assert csv_staging.read_staged(empty) is None


def test_a_staging_file_whose_header_is_scrambled_raises(tmp_path: Path) -> None:
    """Not an SQLite file any more (its header scrambled): raised, so the file is kept."""
    scrambled = tmp_path / csv_staging.STAGING_NAME
    scrambled.write_bytes(b"\xff" * 8192)
    with pytest.raises(sqlite3.DatabaseError):
        csv_staging.read_staged(scrambled)
