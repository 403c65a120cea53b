"""An import the last release left unfinished (Ctrl-C, a power cut), finished by `gateway import`
after the upgrade, tells the central server of every row it holds (reviewer 60p).

Each row an import writes goes up in `registry` records (70faebd, README *Imports and the central
server*), and a step written again by a resumed run sends only the rows it changes: the run that
wrote it first sent them. But the release before that told the centre nothing: the rows its steps
wrote before the stop were written again "as they are" and never sent, and the centre's next
snapshot removed R1, R2 and their cars. Its staging file has no `told` mark: every row goes up.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from gateway.config import SiteConfig, parse_config
from gateway.store.admin import import_csv
from tests.conftest import site_toml
from tests.test_csv import good_files

EVERY_ROW = Counter(
    {
        ("resident", "R1"): 1,
        ("resident", "R2"): 1,
        ("vehicle", "皖A12345"): 1,
        ("vehicle", "皖AD12345"): 1,
        ("vehicle", "苏E8888学"): 1,
        ("card", "0A1B2C3D4E"): 1,
        ("card", "00112233"): 1,
        ("slot", "main/B001"): 1,
    }
)


def _cut_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SiteConfig:
    """good_files imported in steps of two rows, and the power cut after the second step is in."""
    for name in ("STEP_ROWS", "MIN_STEP_ROWS", "MAX_STEP_ROWS"):
        monkeypatch.setattr(f"gateway.store.csv_steps.{name}", 2)
    steps = 0

    def power_cut() -> None:
        nonlocal steps
        steps += 1
        if steps == 2:
            raise KeyboardInterrupt

    cfg = parse_config(site_toml(tmp_path / "data"), "site.toml")
    with pytest.raises(KeyboardInterrupt):
        import_csv(cfg, good_files(tmp_path), pause=power_cut)
    assert (tmp_path / "data" / "import-staging.db").exists()
    return cfg


def _as_the_last_release_left_it(data: Path) -> None:
    """Its steps sent no rows upstream, nor kept how far they got (schema 70's import_steps), and its
    staging file's meta had no `told` column (nor `steps_kept`)."""
    with sqlite3.connect(data / "gateway.db") as c:
        c.execute("DELETE FROM outbox WHERE topic = 'registry' AND payload LIKE '%\"entity\": \"rows\"%'")
        c.execute("DELETE FROM import_steps")
    with sqlite3.connect(data / "import-staging.db") as c:
        c.execute("ALTER TABLE meta DROP COLUMN told")
        c.execute("ALTER TABLE meta DROP COLUMN steps_kept")


def _told(data: Path) -> tuple[Counter[tuple[str, str]], list[dict[str, int]]]:
    """Each row sent up (entity, key) with how often, and the summaries' counts."""
    with sqlite3.connect(data / "gateway.db") as c:
        records = [json.loads(p) for (p,) in c.execute("SELECT payload FROM outbox WHERE topic = 'registry'")]

    def key(row: dict[str, str]) -> str:
        keys = {"resident": "ref", "vehicle": "plate", "card": "card"}
        return row[keys[row["entity"]]] if row["entity"] in keys else f"{row['zone']}/{row['number']}"

    told = Counter((row["entity"], key(row)) for r in records for row in r.get("rows", []))
    return told, [r["counts"] for r in records if r["entity"] == "batch"]


def test_rows_the_last_release_wrote_before_the_stop_go_up_once_it_is_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _cut_short(tmp_path, monkeypatch)
    _as_the_last_release_left_it(cfg.site.data_dir)
    import_csv(cfg, [])  # `gateway import -c site.toml` after the upgrade: finishes it
    told, summaries = _told(cfg.site.data_dir)
    assert summaries == [{"residents": 2, "vehicles": 3, "cards": 2, "slots": 1}]
    assert told == EVERY_ROW  # R1, R2 and their cars too, though the store had them already


def test_an_import_this_release_left_unfinished_sends_no_row_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _cut_short(tmp_path, monkeypatch)
    import_csv(cfg, [])
    told, summaries = _told(cfg.site.data_dir)
    assert summaries == [{"residents": 2, "vehicles": 3, "cards": 2, "slots": 1}]
    assert told == EVERY_ROW
