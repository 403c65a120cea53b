"""REQUIREMENTS 11 (电子巡更): a round is the guard's walk, checkpoints tapped with a patrol card.

Until Review 63i the gateway counted a tap by any card at all: a resident's door card (R1's, on the
register) tapped at the two checkpoints, no guard anywhere, made the 22:00 round "done", and the
centre was never told it was missed; a blocked card did the same. Now only a guard's tap walks a
round: with `[patrol] guard_cards` listed, one of theirs; without (a site set up before the list),
any card but one the register holds or one blocked. A tap that does not count is still on record
and sent to the centre, `counted: false` and why (docs/hardware.md, *Patrol checkpoints*)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.config import parse_config
from gateway.config.problems import ConfigError
from gateway.parking.operations import Operations, worker_of
from gateway.parking.patrol import GuardCards, not_counted
from gateway.runtime.gateway import Gateway
from gateway.store.patrol import PatrolCards
from tests.old_release import old_release
from tests.parking.conftest import parking_config, parking_toml
from tests.parking.test_patrol_review_s41 import CHECKPOINTS, NIGHT

M = timedelta(minutes=1)
H = timedelta(hours=1)
RESIDENT_CARD = "0A0B0C0D0E"  # R1's (张三's) door card
STRANGER_CARD = "0F0F0F0F0F"  # on no register
GUARD_CARD = "G0001"  # the guard's patrol card, on no register
LISTED = f'[patrol]\nguard_cards = ["{GUARD_CARD.lower()}"]\n'  # as an installer may type it
# The release before guard cards (schema 64): a tap by any card walked a round.
BEFORE_GUARD_CARDS = "8766f5b"


def add_card(gw: Gateway, card: str, resident: str = "R1", blocked: bool = False) -> None:
    gw.conn.execute(
        "INSERT INTO credentials (kind, value, resident_id, blocked) "
        "VALUES ('card', ?, (SELECT id FROM residents WHERE ref = ?), ?)",
        (card, resident, int(blocked)),
    )


def the_night(gw: Gateway, taps: list[tuple[int, str, str]]) -> dict[str, Any]:
    """The cards tapped (minutes after 22:00, checkpoint, card) through the checkpoints' readers, the
    22:00 round judged at 00:01 (over): its status, the alarms, and the records sent upstream."""
    clock = {"now": NIGHT}
    gw.now = lambda: clock["now"]  # type: ignore[method-assign]
    gw.worker.start()
    try:
        o = Operations(
            gw.site, gw.db_path, gw.data_dir, worker_of(gw.on_worker), NIGHT - H, unwritten=gw.unwritten
        )
        for minutes, checkpoint, card in taps:
            clock["now"] = NIGHT + minutes * M
            gw._emitter("door", checkpoint)("card", card, 1.0)
        gw.on_worker(lambda c: None).result(60)
        o.patrols(NIGHT + 2 * H + M)
    finally:
        gw.worker.stop()
    return {
        "status": [s for (s,) in gw.conn.execute("SELECT status FROM patrol_rounds ORDER BY due_at")],
        "alarms": [k for (k,) in gw.conn.execute("SELECT kind FROM alarms ORDER BY id")],
        "taps": gw.conn.execute(
            "SELECT checkpoint, card, not_counted FROM patrol_taps ORDER BY id"
        ).fetchall(),
        "upstream": [
            json.loads(p)
            for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'patrol' ORDER BY seq")
        ],
    }


def _marks(night: dict[str, Any]) -> list[tuple[bool, str | None]]:
    return [(u["counted"], u.get("not_counted")) for u in night["upstream"]]


def test_a_residents_door_card_at_the_checkpoints_is_not_a_guards_round(
    make_gw: Callable[..., Gateway],
) -> None:
    """The reviewer's proof: 张三 coming home taps his door card at cp-a 22:10 and cp-b 22:20."""
    gw = make_gw(extra=CHECKPOINTS)
    add_card(gw, RESIDENT_CARD)
    night = the_night(gw, [(10, "cp-a", RESIDENT_CARD), (20, "cp-b", RESIDENT_CARD)])
    assert night["status"] == ["missed"] and "patrol_missed" in night["alarms"], (
        "no guard walked the 22:00 round: only resident R1's door card was tapped at the checkpoints, "
        f"yet the round is on record as {night['status']} and the centre got {night['alarms']}"
    )
    # Still on record, and the centre sees who tapped the checkpoints: not a guard.
    assert night["taps"] == [
        ("cp-a", RESIDENT_CARD, "registered_card"),
        ("cp-b", RESIDENT_CARD, "registered_card"),
    ]
    assert _marks(night) == [(False, "registered_card")] * 2
    assert [u["card"] for u in night["upstream"]] == [RESIDENT_CARD] * 2


def test_without_guard_cards_a_card_on_no_register_still_walks_the_round(
    make_gw: Callable[..., Gateway],
) -> None:
    """A site that never listed guard cards keeps working: its guards' cards are on no register."""
    gw = make_gw(extra=CHECKPOINTS)
    add_card(gw, RESIDENT_CARD)
    night = the_night(gw, [(10, "cp-a", GUARD_CARD), (15, "cp-a", RESIDENT_CARD), (20, "cp-b", GUARD_CARD)])
    assert night["status"] == ["done"] and night["alarms"] == []
    assert _marks(night) == [(True, None), (False, "registered_card"), (True, None)]


@pytest.mark.parametrize("blocked", ["card", "holder"])
def test_a_blocked_card_walks_no_round(make_gw: Callable[..., Gateway], blocked: str) -> None:
    """A lost card, blocked (the card, or its holder moved out and blocked), found by a stranger."""
    gw = make_gw(extra=CHECKPOINTS)
    add_card(gw, RESIDENT_CARD, blocked=blocked == "card")
    if blocked == "holder":
        gw.conn.execute("UPDATE residents SET blocked = 1 WHERE ref = 'R1'")
    night = the_night(gw, [(10, "cp-a", RESIDENT_CARD), (20, "cp-b", RESIDENT_CARD)])
    assert night["status"] == ["missed"] and "patrol_missed" in night["alarms"]
    assert _marks(night) == [(False, "blocked_card")] * 2


def test_with_guard_cards_listed_only_theirs_walk_a_round(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(extra=LISTED + CHECKPOINTS)
    assert gw.site.config.patrol.guard_cards == [GUARD_CARD]  # normalised as every card is
    add_card(gw, RESIDENT_CARD)
    # A stranger's card at both checkpoints, the guard at one only: the round is missed.
    night = the_night(
        gw, [(10, "cp-a", STRANGER_CARD), (12, "cp-a", GUARD_CARD), (20, "cp-b", STRANGER_CARD)]
    )
    assert night["status"] == ["missed"] and "patrol_missed" in night["alarms"]
    assert _marks(night) == [(False, "not_a_guard_card"), (True, None), (False, "not_a_guard_card")]


def test_with_guard_cards_listed_the_guard_walks_his_round(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(extra=LISTED + CHECKPOINTS)
    add_card(gw, GUARD_CARD, resident="R2")  # a guard living on the estate: his card opens his door too
    night = the_night(gw, [(10, "cp-a", GUARD_CARD), (20, "cp-b", GUARD_CARD)])
    assert night["status"] == ["done"] and night["alarms"] == []
    assert _marks(night) == [(True, None)] * 2


def test_a_listed_guard_card_blocked_on_the_register_walks_no_round(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(extra=LISTED + CHECKPOINTS)
    add_card(gw, GUARD_CARD, resident="R2", blocked=True)  # reported lost
    night = the_night(gw, [(10, "cp-a", GUARD_CARD), (20, "cp-b", GUARD_CARD)])
    assert night["status"] == ["missed"]
    assert _marks(night) == [(False, "blocked_card")] * 2


def test_a_card_read_in_another_form_than_listed_or_registered_is_still_that_card(gw: Gateway) -> None:
    """A hex checkpoint (EM4100, all 10 hex digits) reads the card whose printed number (the low 32
    bits) the register or the guard list holds: 0016363D4E is 0372653390."""
    hex_read, printed = "0016363D4E", "0372653390"
    listed = GuardCards((printed,), "decimal")
    assert not_counted(hex_read, "hex", "", listed) is None
    assert not_counted("0016363D4F", "hex", "", listed) == "not_a_guard_card"
    assert not_counted("05686:15694", "hex", "", listed) is None  # a Wiegand 34 checkpoint: the same 32 bits
    add_card(gw, printed)
    cards = PatrolCards(reads={"cp-hex": "hex"})
    assert cards.not_counted(gw.conn, "cp-hex", hex_read) == "registered_card"
    assert cards.not_counted(gw.conn, "cp-hex", "0016363D4F") is None


@pytest.mark.parametrize(
    ("listed", "said"),
    [
        (
            '["G0001", "x"]',
            "patrol.guard_cards[1]: card 'x' is not 3-40 of 0-9, A-Z, ':' and '-': type the 10 digits",
        ),
        (
            "[]",
            "patrol.guard_cards: no card listed: no tap would walk a round; list the guards' patrol cards",
        ),
        ('["054:15694", "54:15694"]', "patrol.guard_cards: guard card 054:15694 is listed twice"),
        ("[372653390]", "patrol.guard_cards[0]: Input should be a valid string"),
    ],
)
def test_a_bad_guard_card_is_a_config_error_saying_what_to_fix(
    tmp_path: Path, listed: str, said: str
) -> None:
    text = parking_toml(tmp_path, extra=f"[patrol]\nguard_cards = {listed}\n" + CHECKPOINTS)
    with pytest.raises(ConfigError) as info:
        parse_config(text, "site.toml")
    assert said in info.value.render()


UNDER_OLD = """
from datetime import timedelta
from pathlib import Path
from gateway.ids import uuid7
from gateway.runtime.gateway import Gateway
from gateway.store.patrol import record_tap
from tests.parking.conftest import parking_config, seed
from tests.parking.test_patrol_review_s41 import CHECKPOINTS, NIGHT
cfg = parking_config(Path(site) / "data", extra=CHECKPOINTS)
seed(cfg, Path(site))
gw = Gateway(cfg)
record_tap(gw.conn, uuid7(), NIGHT + timedelta(minutes=10), "cp-a", "door", guard)  # the guard at 22:10
gw.conn.close()
result = "tapped"
"""


def test_a_box_upgraded_mid_round_keeps_the_guards_tap_of_before(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """The guard taps cp-a at 22:10 under the release before guard cards; the box is upgraded, its
    config unchanged (no guard_cards); he taps cp-b at 22:20: his round is done, and a resident's
    card tapped after the upgrade is marked not a guard's."""
    before = old_release(tmp_path_factory, BEFORE_GUARD_CARDS)
    assert before.run(UNDER_OLD, site=str(tmp_path), guard=GUARD_CARD) == "tapped"
    gw = Gateway(parking_config(tmp_path / "data", extra=CHECKPOINTS))
    try:
        add_card(gw, RESIDENT_CARD)
        night = the_night(gw, [(15, "cp-b", RESIDENT_CARD), (20, "cp-b", GUARD_CARD)])
    finally:
        gw.conn.close()
    assert night["status"] == ["done"] and night["alarms"] == [], night
    assert night["taps"] == [
        ("cp-a", GUARD_CARD, None),  # recorded before the upgrade: counted as it was
        ("cp-b", RESIDENT_CARD, "registered_card"),
        ("cp-b", GUARD_CARD, None),
    ]
    # The record the older release queued says nothing of it (a centre reads its absence as counted).
    assert ["counted" in u for u in night["upstream"]] == [False, True, True]
    assert _marks({"upstream": night["upstream"][1:]}) == [(False, "registered_card"), (True, None)]
