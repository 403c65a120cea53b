"""A `gateway import` given up when a later run finishes it, where no record in import_steps does
not mean what fix 65A took it to mean (Review 65A2). The run that gives it up guessed which slots
rows an earlier run had written (the slots whose owner and cars are as the row gives them) only
where import_steps had no row, taking that for a file a release before schema 70 staged:

- such a file, cut again after the upgrade, has a row (the runs since keep one), but the old
  release's rows may go further: they were not guessed, and a slot it wrote listed its old
  household's car and the file's for good; the office was told "the rest not";
- a file this release staged, cut inside its first step, has none, and nothing of it is in: a slot
  the file names was taken as written, and lost a car put on it at the booth, and the office was
  told the rest was in "as far as the run that left it unfinished wrote them".

The staging file now says whether its steps keep that record."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.errors import StorageError
from gateway.runtime.gateway import Gateway
from gateway.store import csv_steps
from gateway.store.admin import import_csv
from gateway.store.csv_steps import Part
from tests.conftest import write_csv
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.directory_exit_helpers import delta
from tests.test_csv_fix47b_given_up_after_resume import (  # noqa: F401  (fixture)
    FILE,
    _interrupted_after,
    _listed_on,
    as_a_release_before_schema_70_left_it,
    one_row_a_step,
)

LATER = T0 + timedelta(minutes=5)
C001_THEN_B001 = "zone,number,resident_ref,plates\nmain,C001,R3,\nmain,B001,R1,皖A11111\n"


def _stopped(gw: Gateway) -> dict[str, object]:
    """`stopped` of the last registry.import audit row: what the office and the centre are told."""
    (detail,) = gw.conn.execute(
        "SELECT detail FROM audit WHERE action = 'registry.import' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    stopped = json.loads(detail)["stopped"]
    assert isinstance(stopped, dict)
    return stopped


def test_an_import_a_release_before_schema_70_left_cut_again_after_the_upgrade_and_given_up(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
    one_row_a_step: None,  # noqa: F811
) -> None:
    """The old release wrote every row of FILE's first pass, then the power went. After the upgrade
    `gateway import -c site.toml` writes it again from its first row, and the SSH session drops
    after that row. The centre deletes R3 (C001's row, row 2); the next run is given up there. The
    rows after it are in as the old release wrote them: B002 is R1's second car's only, as the file
    has it (as where the run after the upgrade was not cut: tests/test_csv_fix47b_...)."""
    gw = make_gw()
    slots = write_csv(tmp_path / "slots.csv", FILE)
    with pytest.raises(KeyboardInterrupt):
        import_csv(gw.site.config, [slots], pause=_interrupted_after(5))
    as_a_release_before_schema_70_left_it(gw)
    with pytest.raises(KeyboardInterrupt):  # the upgraded gateway's run, cut after its first step
        import_csv(gw.site.config, [], pause=_interrupted_after(1))
    delta(gw, 1, 0, LATER, delete=[{"kind": "resident", "ref": "R3"}])
    with pytest.raises(StorageError, match="given up") as given_up:
        import_csv(gw.site.config, [])
    assert _listed_on(gw)["B002"] == ["皖A22222"], _listed_on(gw)  # not R2's car too, for good
    said = str(given_up.value)
    assert "after 1 of 5 rows (1 of them by an earlier run)" in said, said
    assert "the rest only as far as the release before the upgrade wrote them" in said, said
    assert _stopped(gw)["resumed"] is True


def test_an_import_cut_inside_its_first_step_and_given_up_changes_no_slot(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
    one_row_a_step: None,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cut inside its first step (Ctrl-C while C001's row is written): nothing of it is in, and
    import_steps has no row. The centre deletes R3; the next run is given up at row 1. B001, whose
    row gives R1's first car only, keeps R1's second car: the import never wrote it."""
    gw = make_gw()
    slots = write_csv(tmp_path / "slots.csv", C001_THEN_B001)
    before = _listed_on(gw)
    assert before["B001"] == ["皖A11111", "皖A22222"]
    written = csv_steps.WRITERS["slots"]

    def cut(conn: sqlite3.Connection, part: Part) -> None:
        written(conn, part)
        raise KeyboardInterrupt  # before its transaction commits

    monkeypatch.setitem(csv_steps.WRITERS, "slots", cut)
    with pytest.raises(KeyboardInterrupt):
        import_csv(gw.site.config, [slots])
    monkeypatch.setitem(csv_steps.WRITERS, "slots", written)
    delta(gw, 1, 0, LATER, delete=[{"kind": "resident", "ref": "R3"}])
    with pytest.raises(StorageError, match="given up") as given_up:
        import_csv(gw.site.config, [])
    assert _listed_on(gw) == before
    said = str(given_up.value)
    assert "0 rows are in (audited as registry.import, with what was left out), the rest not\n" in said, said
    assert _stopped(gw)["written"] == {"residents": 0, "vehicles": 0, "cards": 0, "slots": 0}
