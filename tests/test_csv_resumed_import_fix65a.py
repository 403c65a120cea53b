"""A large `gateway import` cut short (the installer's SSH session dropped, a power cut, Ctrl-C),
then finished by the next `gateway import -c site.toml` (README, *Large imports*), Review 65A.

Before the next run, the office strikes off a lost card at the booth, blocks a stolen one, or the
centre's delta deletes one. The next run wrote the unfinished import again from its first row: the
deleted card was back and the blocked one unblocked, and both opened the door. It goes on after the
last step that is in (import_steps), so what was changed since in the rows already in stays.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.core import Presented
from gateway.errors import StorageError
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from gateway.store.registry import set_blocked
from gateway.store.registry_credentials import delete_credential
from tests.conftest import site_toml, write_csv
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.directory_exit_helpers import delta
from tests.test_csv import good_files
from tests.test_csv_fix47b_given_up_after_resume import _interrupted_after, one_row_a_step  # noqa: F401
from tests.test_csv_review60p_resumed_after_upgrade import EVERY_ROW, _told

LOST, OTHER, THIRD = "10000001", "10000002", "10000003"
CARDS = f"card,resident_ref,blocked\n{LOST},R1,0\n{OTHER},R2,0\n{THIRD},R3,0\n"


def _card_id(gw: Gateway, card: str) -> int:
    return int(
        gw.conn.execute("SELECT id FROM credentials WHERE kind = 'card' AND value = ?", (card,)).fetchone()[0]
    )


def _deleted_at_the_booth(gw: Gateway) -> None:  # 挂失: deleted on the lookup page
    delete_credential(gw.conn, T0, "admin1", _card_id(gw, LOST))


def _blocked_at_the_booth(gw: Gateway) -> None:  # 立即禁用: a card reported stolen
    set_blocked(gw.conn, T0, "guard1", ("card", LOST), True, "业主报失")


def _deleted_by_the_centre(gw: Gateway) -> None:
    delta(gw, 1, 0, T0, delete=[{"kind": "card", "card": LOST}])


def _imports(gw: Gateway) -> list[dict[str, object]]:
    """The detail of each registry.import audit row after the seed's."""
    rows = gw.conn.execute("SELECT detail FROM audit WHERE action = 'registry.import' ORDER BY id").fetchall()
    return [json.loads(d) for (d,) in rows[1:]]


@pytest.mark.parametrize("meanwhile", [_deleted_at_the_booth, _blocked_at_the_booth, _deleted_by_the_centre])
def test_a_card_changed_after_the_cut_stays_as_it_was_changed_and_the_rest_is_written(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
    one_row_a_step: None,  # noqa: F811
    meanwhile: Callable[[Gateway], None],
) -> None:
    gw = make_gw()
    cards = write_csv(tmp_path / "cards.csv", CARDS)
    with pytest.raises(KeyboardInterrupt):  # cut after its first two rows are in
        import_csv(gw.site.config, [cards], pause=_interrupted_after(2))
    meanwhile(gw)
    import_csv(gw.site.config, [])  # the installer finishes it
    ev = gw.handle(Presented("door", "card", LOST, 1.0, T0 + timedelta(hours=2), "reader"))
    assert not ev.admitted, f"the card changed at the booth after the cut opens the door again ({ev.reason})"
    # The rest of the import is in, and on record once, with the whole import's counts.
    third = gw.handle(Presented("door", "card", THIRD, 1.0, T0 + timedelta(hours=2), "reader"))
    assert third.admitted, third.reason
    assert [d["counts"] for d in _imports(gw)] == [{"residents": 0, "vehicles": 0, "cards": 3, "slots": 0}]
    assert not (gw.data_dir / "import-staging.db").exists()
    assert gw.conn.execute("SELECT count(*) FROM import_steps").fetchone() == (0,)


def test_an_import_cut_at_any_step_and_finished_stores_and_tells_what_an_uncut_one_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """good_files in steps of one row (9: its 8 rows, then the slot's second pass), cut after each
    step in turn: finished, the store is as one import without a cut leaves it, one audit row, and
    each row told the centre once."""
    files = good_files(tmp_path)
    whole = parse_config(site_toml(tmp_path / "whole"), "site.toml")
    import_csv(whole, files)
    for name in ("STEP_ROWS", "MIN_STEP_ROWS", "MAX_STEP_ROWS"):
        monkeypatch.setattr(f"gateway.store.csv_steps.{name}", 1)
    queries = (
        "SELECT ref, building, unit, room, name, phone_masked FROM residents ORDER BY ref",
        "SELECT plate, class, monthly_until FROM vehicles ORDER BY plate",
        "SELECT kind, value, valid_to, hours, blocked FROM credentials ORDER BY kind, value",
        "SELECT s.zone, s.number, v.plate FROM slot_vehicles sv JOIN slots s ON s.id = sv.slot_id "
        "JOIN vehicles v ON v.id = sv.vehicle_id ORDER BY 1, 2, 3",
        "SELECT count(*) FROM audit WHERE action = 'registry.import'",
    )

    def stored(data: Path) -> list[list[tuple[object, ...]]]:
        with sqlite3.connect(data / "gateway.db") as c:
            return [c.execute(sql).fetchall() for sql in queries]

    for cut in range(1, 9):
        cfg = parse_config(site_toml(tmp_path / f"cut{cut}"), "site.toml")
        with pytest.raises(KeyboardInterrupt):
            import_csv(cfg, files, pause=_interrupted_after(cut))
        import_csv(cfg, [])
        assert stored(cfg.site.data_dir) == stored(whole.site.data_dir), f"cut after step {cut}"
        told, summaries = _told(cfg.site.data_dir)
        assert summaries == [{"residents": 2, "vehicles": 3, "cards": 2, "slots": 1}], cut
        assert told == EVERY_ROW, f"cut after step {cut}"


def test_a_resumed_import_given_up_says_how_far_each_run_got(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
    one_row_a_step: None,  # noqa: F811
) -> None:
    """Cut after LOST's row; the centre then deletes R3, whom THIRD's row names: the next run
    writes OTHER's row and is given up at THIRD's. Its first 2 rows are in, 1 by the earlier
    run, and the rest not (not "only as far as the run that left it unfinished wrote them":
    that is known now)."""
    gw = make_gw()
    cards = write_csv(tmp_path / "cards.csv", CARDS)
    with pytest.raises(KeyboardInterrupt):
        import_csv(gw.site.config, [cards], pause=_interrupted_after(1))
    delta(gw, 1, 0, T0, delete=[{"kind": "resident", "ref": "R3"}])
    with pytest.raises(StorageError, match="given up") as given_up:
        import_csv(gw.site.config, [])
    said = str(given_up.value)
    assert "after 2 of 3 rows (1 of them by an earlier run)" in said, said
    assert "the rest not" in said, said
    (detail,) = _imports(gw)
    stopped = detail["stopped"]
    assert isinstance(stopped, dict)
    assert (stopped["written"]["cards"], stopped["left_out"]["cards"]) == (2, 1)
    assert gw.conn.execute(
        "SELECT value FROM credentials WHERE value IN (?, ?, ?) ORDER BY value", (LOST, OTHER, THIRD)
    ).fetchall() == [(LOST,), (OTHER,)]
