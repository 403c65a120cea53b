"""An import stopped part way (power cut) under the older version, finished by the next `gateway
import` after the upgrade (README, *Large imports*: 'the next gateway import ... writes them again
and finishes it'). Its staged rows keep the card as the older version read it (54:15694), while
migration 51 respelled the register's row (054:15694). Finishing the import writes 54:15694 as a
second row beside 054:15694: the card reissued to 李四 (R2) by the file stays 张三's (R1) at every
reader giving 054:15694 (its row is found first, as read), and the register holds one card twice."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.core import Presented
from gateway.core.credentials import _CARD, BadCredential
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from gateway.store.registry import add_card
from gateway.store.schema import MIGRATIONS
from gateway.typed import typed
from tests.conftest import write_csv
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)


def _older_canonical(kind: str, value: str) -> str:
    """The card as the version before 00bd723 stored it: as typed."""
    assert kind == "card"
    card = re.sub(r"\s", "", typed(value)).upper()
    if not _CARD.match(card):
        raise BadCredential(card)
    return card


def test_an_import_finished_after_the_upgrade_names_the_respelled_card(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gw = make_gw()
    # Registered last year, under the older version, as the supplier's list wrote it.
    add_card(gw.conn, T0 - timedelta(days=300), "admin", "54:15694", 1, None, None, None, "")
    for name in ("STEP_ROWS", "MIN_STEP_ROWS", "MAX_STEP_ROWS"):
        monkeypatch.setattr(f"gateway.store.csv_steps.{name}", 1)
    cards = write_csv(tmp_path / "cards.csv", "card,resident_ref\n0000000002,R3\n54:15694,R2\n")
    steps = 0

    def power_cut() -> None:
        nonlocal steps
        steps += 1
        if steps == 1:
            raise KeyboardInterrupt

    with monkeypatch.context() as older:  # the older version reads and stages the file
        older.setattr("gateway.store.csv_rows.canonical", _older_canonical)
        with pytest.raises(KeyboardInterrupt):
            import_csv(gw.site.config, [cards], pause=power_cut)
    gw.conn.executescript(MIGRATIONS[50])  # the upgrade
    import_csv(gw.site.config, [])  # finishes the import, as the README says
    rows = gw.conn.execute(
        "SELECT value, resident_id FROM credentials WHERE kind = 'card' AND value LIKE '%:15694' ORDER BY id"
    ).fetchall()
    assert rows == [("054:15694", 2)], f"the card reissued by the file to R2 is on record as {rows}"
    ev = gw.handle(Presented("door", "card", "054:15694", 1.0, T0, "door-reader"))
    assert ev.holder_id == 2, f"the card opens as resident {ev.holder_id}, not R2"
