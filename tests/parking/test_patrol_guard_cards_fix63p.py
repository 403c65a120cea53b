"""Review 63p of `[patrol] guard_cards` (commits 97d2cec, 2e1dfc5), tried as an installer and a guard.

1. A guard card listed by its printed number ("0372653390", the docs' example) never counted on a
   site whose EM4100 readers give hex (the default): the list was read as the register reads 10
   digits (hex there). Now an all-digit listed number is the card of either reading where a reader
   of the site gives hex.
2. A guard whose patrol card is on the register (entered as a resident, or on a pass) had every
   round missed after the upgrade, guard_cards unset, and nothing said so: `gateway check-config`
   and the start now warn, naming the card masked and the fix.
3. The missed (late) round's alarm said the checkpoints a card that does not count tapped were
   "not tapped" (未打卡): it now says they were tapped, by which kind of card, and points to
   [patrol] guard_cards; /api/parking/patrols says it too.
4. A guard card listed without its leading zeros ("372653390", "16363D4E") was taken and never
   matched: refused where the checkpoints are EM4100 or Wiegand readers (the card import's fix:
   pad to 10 digits), warned of by check-config where some are line readers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.alarm_texts import AlarmText, render_stored
from gateway.api.app import create_app
from gateway.cli import main
from gateway.config import parse_config
from gateway.config.problems import ConfigError
from gateway.parking.patrol import GuardCards, RouteSpec, Tap, evaluate, not_counted
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from gateway.store.patrol import PatrolCards
from tests.parking.conftest import make_gw, parking_toml, seed  # noqa: F401  (fixture)
from tests.parking.test_patrol_guard_cards_fix63i import add_card, the_night
from tests.parking.test_patrol_review_s41 import CHECKPOINTS, NIGHT

M = timedelta(minutes=1)
# The checkpoints as the example config has them: EM4100 readers (em4100_number left at its
# default, "hex"), or set to the printed decimal number.
EM_HEX = CHECKPOINTS.replace('format = "line"', 'format = "em4100"')
EM_DEC = CHECKPOINTS.replace('format = "line"', 'format = "em4100"\nem4100_number = "decimal"')
# cp-a an EM4100 reader giving the printed number, cp-b a line reader (it gives what it reads).
EM_AND_LINE = CHECKPOINTS.replace('format = "line"', 'format = "em4100"\nem4100_number = "decimal"', 1)
# The estate's door reader, an EM4100 reader at its default (hex): the register holds hex numbers.
DOOR_HEX = """
[[devices]]
id = "door-reader"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyREVIEW-door"
format = "em4100"
"""
HEX_READ, PRINTED = "0016363D4E", "0372653390"  # one card (docs/hardware.md, Card numbers)


def _check_config(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    status = main(["check-config", str(path)])
    said = capsys.readouterr()
    return status, said.out + said.err


# ---- 1. the printed number listed on a site of hex readers ---------------------------------------


def test_printed_number_listed_on_a_hex_checkpoint_site_walks_the_round(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """docs/hardware.md and config.md: list the guard's card 'as the checkpoints read them or the
    printed number', e.g. "0372653390"; a hex checkpoint reading 0016363D4E is that card. The
    installer writes the number printed on the guard's card; the checkpoints are EM4100 readers at
    their default (hex), as in config/example-estate.toml."""
    gw = make_gw(extra=f'[patrol]\nguard_cards = ["{PRINTED}"]\n' + DOOR_HEX + EM_HEX)
    night = the_night(gw, [(10, "cp-a", HEX_READ), (20, "cp-b", HEX_READ)])
    assert night["status"] == ["done"], (
        f"the guard whose card is printed {PRINTED} (listed in guard_cards as printed) tapped cp-a "
        f"and cp-b (read {HEX_READ}); the round should be done, yet it is {night['status']}, "
        f"alarms {night['alarms']}, taps {night['taps']}: on a site whose EM4100 readers give hex, "
        "the listed printed number is read as a hex id (PatrolCards.of passes register_ten_digits "
        "as listed_as), so the guard's every round is missed"
    )


def test_a_listed_all_digit_number_is_the_card_of_either_reading_where_a_reader_gives_hex(
    tmp_path: Path,
) -> None:
    """0372653390 may be copied from the card (printed) or from a hex reader's log: either card counts
    where a reader of the site gives hex; on a site of decimal readers, the printed one only."""
    hex_site = parse_config(parking_toml(tmp_path, extra=f'[patrol]\nguard_cards = ["{PRINTED}"]\n' + EM_HEX))
    dec_site = parse_config(parking_toml(tmp_path, extra=f'[patrol]\nguard_cards = ["{PRINTED}"]\n' + EM_DEC))
    assert PatrolCards.of(hex_site).guards.listed_as == "either"
    assert PatrolCards.of(dec_site).guards.listed_as == "decimal"
    either = GuardCards((PRINTED,), "either")
    assert not_counted(HEX_READ, "hex", "", either) is None  # the card printed 0372653390
    assert not_counted(PRINTED, "hex", "", either) is None  # the card a hex reader reads 0372653390
    assert not_counted("0016363D4F", "hex", "", either) == "not_a_guard_card"
    assert not_counted(PRINTED, "decimal", "", GuardCards((PRINTED,), "decimal")) is None
    # Listed as a hex reader gives it: a decimal checkpoint's printed number is that card.
    assert not_counted(PRINTED, "decimal", "", GuardCards((HEX_READ,), "decimal")) is None


# ---- 4. a listed number without its leading zeros ------------------------------------------------


@pytest.mark.parametrize(
    ("listed", "said"),
    [
        (
            "372653390",
            "patrol.guard_cards[0]: guard card 372653390 has 9 digits where an EM4100 checkpoint gives 10",
        ),
        ("372653390", "pad it with zeros to 10 digits (0372653390)"),
        ("16363d4e", "guard card 16363D4E has 8 hex digits"),
        ("16363D4E", "pad it with zeros to 10 digits (0016363D4E)"),
        ("G0001", "guard card G0001 is no number an EM4100 or Wiegand checkpoint gives"),
    ],
)
def test_guard_card_listed_without_its_leading_zero_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], listed: str, said: str
) -> None:
    """The installer pastes the guard's card from the spreadsheet, Excel having dropped its zero
    (the register's import refuses such a number: csv_rows.whole_number). The checkpoints give 10
    digits (em4100_number = "decimal"), so 372653390 never matches: every round missed."""
    text = parking_toml(tmp_path / "data", extra=f'[patrol]\nguard_cards = ["{listed}"]\n' + EM_DEC)
    with pytest.raises(ConfigError) as info:
        parse_config(text, "site.toml")
    assert said in info.value.render()
    status, out = _check_config(tmp_path, text, capsys)
    assert status != 0 and said in out, out


def test_a_short_number_is_taken_where_the_checkpoints_are_line_readers_and_warned_of_where_some_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A line reader gives what it reads: 372653390 may be its number. Where some checkpoints are
    EM4100 readers, check-config says they would never read it."""
    listed = '[patrol]\nguard_cards = ["372653390"]\n'
    assert parse_config(parking_toml(tmp_path / "data", extra=listed + CHECKPOINTS)).patrol.guard_cards
    text = parking_toml(tmp_path / "data", extra=listed + EM_AND_LINE)
    status, out = _check_config(tmp_path, text, capsys)
    assert status == 0, out
    assert (
        "warning: patrol.guard_cards[0]: guard card 372653390 has 9 digits where an EM4100 checkpoint "
        "gives 10" in out
    ), out
    fix = "give the number as printed on the card, or pad it with zeros to 10 digits (0372653390)"
    assert f"at checkpoints cp-a; {fix}" in out, out


# ---- 2. the upgrade: a guard's card on the register -----------------------------------------------


def test_upgrade_warns_where_the_guards_card_is_on_the_register(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A site (no guard_cards: set up before the list) whose guard's patrol card is on the register
    (it opens the pedestrian gate for him, e.g. entered as a resident of the property office). The
    older version counted his taps (patrol_taps.not_counted NULL). After the upgrade every round he
    walks is missed, patrol_missed every two hours; README's *Upgrading* says nothing, and
    check-config (what README says to run before the restart) should name the card and guard_cards."""
    data = tmp_path / "data"
    text = parking_toml(data, extra=CHECKPOINTS)
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        add_card(gw, "G0001", resident="R2")  # the guard's card, on the register
        for minutes, cp in ((10, "cp-a"), (20, "cp-b")):  # as the older version recorded his round
            gw.conn.execute(
                "INSERT INTO patrol_taps (tap_id, at, checkpoint, lane, card) "
                "VALUES (?, ?, ?, 'door', 'G0001')",
                (
                    f"t{minutes}-{cp}",
                    (NIGHT - timedelta(days=1) + timedelta(minutes=minutes)).isoformat(),
                    cp,
                ),
            )
        night = the_night(gw, [(10, "cp-a", "G0001"), (20, "cp-b", "G0001")])
    finally:
        gw.conn.close()
    assert night["status"] == ["missed"]  # the behaviour change: his round, walked, now missed
    _, out = _check_config(tmp_path, text, capsys)
    assert "guard_cards" in out, (
        "the guard's card G0001 walked rounds before the upgrade and is on the register: from now on "
        "his taps are registered_card and every round is missed; check-config (and the start) should "
        "warn and say to list it in [patrol] guard_cards. It said only:\n" + out
    )
    warning = (
        "warning: patrol: 1 card(s) on the register tapped at the checkpoints in the 30 days to the last "
        "tap (*0001)"
    )
    assert warning in out and "fix: list the guards' cards in [patrol] guard_cards" in out, out
    assert "G0001" not in out  # masked, as cards are in the log
    # The start says it too.
    said = logging.getLogger("gateway.runtime.config_edits")
    said.addHandler(caplog.handler)  # the `gateway` command's logging, set up above, stops propagation
    try:
        Gateway(cfg).conn.close()
    finally:
        said.removeHandler(caplog.handler)
    assert any(warning.removeprefix("warning: ") in r.getMessage() for r in caplog.records), caplog.text
    # Listed: nothing said.
    listed = parking_toml(data, extra='[patrol]\nguard_cards = ["G0001"]\n' + CHECKPOINTS)
    _, out = _check_config(tmp_path, listed, capsys)
    assert "on the register tapped" not in out, out


# ---- 3. the alarm says who tapped --------------------------------------------------------------


def test_missed_alarm_does_not_say_untapped_checkpoints_that_a_card_tapped(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The guard's card is on the register (no guard_cards): he taps cp-a and cp-b. The alarm the
    guard and centre read says the checkpoints were not tapped (未打卡：cp-a, cp-b); he did tap
    them, and nothing on the alarm or the patrols page says his taps were not counted or why."""
    gw = make_gw(extra=CHECKPOINTS)
    add_card(gw, "G0001", resident="R2")
    night = the_night(gw, [(10, "cp-a", "G0001"), (20, "cp-b", "G0001")])
    (message,) = [m for (m,) in gw.conn.execute("SELECT message FROM alarms WHERE kind = 'patrol_missed'")]
    assert "not tapped: cp-a, cp-b" not in message or "not_counted" in message or "guard_cards" in message, (
        f"cp-a and cp-b were tapped (taps {night['taps']}), by a card not counted; the alarm should "
        f"say so (tapped by a card that is not a guard's: list it in [patrol] guard_cards), not {message!r} "
        "(the guard page: 巡更 夜间巡更 22:00 轮次漏巡，未打卡：cp-a, cp-b)"
    )
    assert render_stored(message, "en") == (
        "patrol 夜间巡更 round due 22:00 missed; not tapped by a guard's card: cp-a, cp-b; cp-a, cp-b "
        "tapped by a card that does not count (a card on the register): list the guards' cards in "
        "[patrol] guard_cards"
    )
    assert render_stored(message, "zh") == (
        "巡更 夜间巡更 22:00 轮次漏巡，未经保安卡打卡：cp-a、cp-b；其中 cp-a、cp-b 有卡打卡但不计入巡更"
        "（登记在册的住户或通行证的卡）：请在站点配置 [patrol] guard_cards 中列出保安的巡更卡"
    )
    # The patrols page's API says it of the round too.
    gw.now = lambda: NIGHT + 3 * 60 * M  # type: ignore[method-assign]
    gw.worker.start()
    try:
        _, token = gw.on_worker(lambda c: create_token(c, gw.now(), "test", "office", "admin", None)).result(
            60
        )
        r = TestClient(create_app(gw)).get(
            "/api/parking/patrols", headers={"Authorization": f"Bearer {token}"}
        )
    finally:
        gw.worker.stop()
    assert r.status_code == 200, r.text
    (round_,) = r.json()
    assert round_["missing"] == ["cp-a", "cp-b"]
    assert round_["not_counted"] == [
        {"checkpoint": "cp-a", "why": "registered_card"},
        {"checkpoint": "cp-b", "why": "registered_card"},
    ]


def test_a_round_missing_a_checkpoint_nobody_tapped_says_which_were_tapped_by_whom() -> None:
    """The judging (pure): cp-a tapped by a resident only, cp-b by nobody, cp-c by the guard."""
    route = RouteSpec("night", "夜间巡更", ("cp-a", "cp-b", "cp-c"), None, 120 * M, 45 * M)  # type: ignore[arg-type]
    taps = [
        Tap(NIGHT + 5 * M, "cp-c"),
        Tap(NIGHT + 10 * M, "cp-a", "registered_card"),
        Tap(NIGHT + 12 * M, "cp-a", "blocked_card"),
        Tap(NIGHT + 15 * M, "cp-c", "not_a_guard_card"),  # tapped by the guard too: not said
    ]
    r = evaluate(route, NIGHT, taps, NIGHT + 50 * M)
    assert (r.status, r.missing, r.not_counted) == (
        "overdue",
        ("cp-a", "cp-b"),
        (("cp-a", "registered_card"),),
    )
    text = AlarmText(
        "patrol_late.untapped.not_counted",
        {
            "route": "夜间巡更",
            "due": "22:00",
            "minutes": 45,
            "missing": ["cp-a", "cp-b"],
            "tapped": ["cp-a"],
            "not_counted": ["registered_card", "not_a_guard_card", "blocked_card"],
        },
    )
    assert text.render("en") == (
        "patrol 夜间巡更 round due 22:00 not finished within 45 minutes; not tapped by a guard's card: "
        "cp-a, cp-b; cp-a tapped by a card that does not count (a card on the register, not a guard's "
        "card, a blocked card): list the guards' cards in [patrol] guard_cards"
    )
    assert (
        "其中 cp-a 有卡打卡但不计入巡更（登记在册的住户或通行证的卡、不是保安卡、已禁用的卡）"
        in text.render("zh")
    )
    # A round whose checkpoints nobody but guards tapped says what it always said.
    plain = evaluate(route, NIGHT, taps[:1], NIGHT + 50 * M)
    assert plain.not_counted == ()
