"""An import cut short whose staging file (import-staging.db) the card then damaged: the next
`gateway import -c CONFIG` says the file is damaged and what to do, not to free disk space, and a
staging file it can read but not lock says to end what holds it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.cli import EX_CONFIG, main
from gateway.config import SiteConfig, load_config
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.test_process import write_site

_connect = sqlite3.connect


def damage(db: Path, name: str) -> None:
    """Bit rot on the card: the root page of table `name` overwritten."""
    with sqlite3.connect(db) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    conn.close()
    with open(db, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * page_size)


def cut_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, SiteConfig]:
    """A site whose import of five residents, a step a row, stopped (Ctrl-C) after its second step."""
    for name in ("STEP_ROWS", "MIN_STEP_ROWS", "MAX_STEP_ROWS"):
        monkeypatch.setattr(f"gateway.store.csv_steps.{name}", 1)
    config = write_site(tmp_path)
    cfg = load_config(config)
    people = write_csv(
        tmp_path / "p.csv",
        "ref,building,unit,name\n" + "".join(f"N{i},2栋,1单元,新住户{i}\n" for i in range(5)),
    )
    steps = 0

    def ctrl_c() -> None:
        nonlocal steps
        steps += 1
        if steps == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_csv(cfg, [people], pause=ctrl_c)
    assert (cfg.site.data_dir / "import-staging.db").exists()
    return config, cfg


def test_an_unfinished_import_whose_staging_file_is_damaged_is_not_told_to_free_disk_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each `gateway import -c CONFIG` after it stopped with `fix: free disk space in the data
    directory and check that the file belongs to the gateway user ...`: the disk had room and the
    file was the gateway's, so every later import was refused for good. It says the staging file is
    damaged: move it aside and import the files again, the rows already in staying."""
    config, cfg = cut_short(tmp_path, monkeypatch)
    staging = cfg.site.data_dir / "import-staging.db"
    damage(staging, "runs")
    capsys.readouterr()
    code = main(["import", "-c", str(config)])
    err = capsys.readouterr().err
    assert "free disk space" not in err, err
    assert "damaged" in err and "aside" in err and "import the files again" in err, err
    assert code == EX_CONFIG, err  # restarting finds the same damage
    assert staging.exists()


def test_a_staging_file_moved_aside_lets_the_files_be_imported_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fix it gives works: the file moved aside, the files imported again, all five are in."""
    config, cfg = cut_short(tmp_path, monkeypatch)
    staging = cfg.site.data_dir / "import-staging.db"
    damage(staging, "runs")
    assert main(["import", "-c", str(config)]) == EX_CONFIG
    staging.rename(staging.with_name("import-staging.db.damaged"))
    assert main(["import", "-c", str(config), str(tmp_path / "p.csv")]) == 0
    with sqlite3.connect(cfg.site.data_dir / "gateway.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM residents WHERE ref LIKE 'N%'").fetchone() == (5,)
    conn.close()


def test_an_unfinished_import_whose_staging_file_is_held_says_to_end_what_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Someone holds the staging file in the sqlite3 shell, mid-write: the meta cannot be read. It
    is kept (it was taken for a file never staged, and deleted), and the next run finishes it."""
    config, cfg = cut_short(tmp_path, monkeypatch)
    staging = cfg.site.data_dir / "import-staging.db"
    holder = _connect(staging, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr("sqlite3.connect", lambda *a, **k: _connect(*a, **{**k, "timeout": 0.1}))
    try:
        capsys.readouterr()
        code = main(["import", "-c", str(config)])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    err = capsys.readouterr().err
    assert code == 1 and "cannot read the unfinished import" in err, (code, err)
    assert "free disk space" not in err, err
    assert staging.exists()
    monkeypatch.setattr("sqlite3.connect", _connect)
    assert main(["import", "-c", str(config)]) == 0
    with sqlite3.connect(cfg.site.data_dir / "gateway.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM residents WHERE ref LIKE 'N%'").fetchone() == (5,)
    conn.close()
