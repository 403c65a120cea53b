"""An English site's lane board (site.language = "en", Review 66L). Its words were the guard page's,
too long for a lane panel: at width 4 (a 64-dot panel, 8 letters a line) `Temporary vehicle: please
pay 7 yuan / 鲁B12345` went as Temporar / y / vehicle: / please / pay 7 / yuan / 鲁B12345 (a word cut,
the plate on the 7th line) and `No entry: closed management in force` as No / entry: / closed /
manageme / nt in / force; at width 8 (128 dots) the fee took 4 lines where docs/hardware.md promises
a panel of three lines shows the fee and the plate. Now every English board text has display-only
words (PAY 7 YUAN, TEMP: PAY 7, NO ENTRY / FULL) that go on a 64- and a 128-dot panel whole, the
plate on a line of its own within the first three; a Latin word wider than a line is cut with a
hyphen. Each text the board shows is checked here, as test_display_why_fix66C.py checks Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from drivers.displays.serial_text import display_bytes, panel_lines, word_lines
from drivers.displays.voice import spoken
from gateway.config import parse_config
from gateway.core import Presented
from gateway.core.model import Reason
from gateway.core.tickets import NO_PLATE
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.runtime.texts import (
    closed_lines,
    display_lines,
    fault_lines,
    idle_lines,
    let_through_lines,
    pay_lines,
    reason_text,
    refusal_lines,
)
from tests.parking.conftest import T0, parking_toml, seed

PLATE = "鲁B12345"
TICKET = "无牌-0303-07"
EVENT = AccessEvent(
    event_id="e1",
    at=T0,
    lane="car-in",
    device="cam",
    kind="plate",
    value=PLATE,
    confidence=0.97,
    admitted=True,
    reason="temporary",
    billing="temporary",
    flags=(),
    subject=PLATE,
    holder_kind=None,
    holder_id=None,
    holder_ref=None,
    holder_name="",
    building="",
    unit="",
    vehicle_id=None,
    vehicle_class="car",
    plate=PLATE,
    slot_id=None,
    zone="main",
)
# Fees of up to four characters (PAY 1234 is a 64-dot line); 7, 12.5 and 1234 yuan.
FEES = (700, 1250, 123400)


def _greetings(language: str) -> dict[str, list[str]]:
    """What a car let in is told: by whose it is, and why a resident's car pays (flags)."""
    told = {}
    for reason in ("resident", "monthly", "visitor", "contractor", "temporary"):
        told[reason] = display_lines(replace(EVENT, reason=reason), language)
    for flag in (
        "monthly_expired",
        "registration_not_yet_valid",
        "registration_expired",
        "shared_slot",
        "no_slot",
    ):
        told[flag] = display_lines(replace(EVENT, flags=(flag,)), language)
    told["no_plate"] = display_lines(replace(EVENT, flags=(NO_PLATE,), plate=TICKET), language)
    told["pass_car"] = display_lines(replace(EVENT, plate=None, kind="qr"), language, pass_car=PLATE)
    told["goodbye"] = display_lines(EVENT, language, "exit")
    told["go_ahead"] = let_through_lines(PLATE, language)
    return told


def _fees(language: str) -> dict[str, list[str]]:
    told = {}
    for fee in FEES:
        for kind in ("resident", "visitor", "contractor", "monthly", "temporary", None):
            told[f"pay {kind} {fee}"] = pay_lines(fee, PLATE, kind, language)
        told[f"pay lapsed {fee}"] = pay_lines(fee, PLATE, "resident", language, lapsed=True)
        told[f"pay no plate {fee}"] = pay_lines(fee, TICKET, None, language, no_plate=True)
    return told


def _refusals(language: str) -> dict[str, list[str]]:
    told = {}
    for reason in Reason:
        if reason == Reason.PAYMENT_DUE:
            continue  # asked as a fee (pay_lines)
        for way in ("entrance", "exit"):
            told[f"{reason} {way}"] = refusal_lines(reason, PLATE, language, way)
    visitor = replace(EVENT, admitted=False, reason="closed_management", holder_kind="visitor")
    told["visitor to the booth"] = display_lines(visitor, language)
    return told


def _faults(language: str) -> dict[str, list[str]]:
    told = {f"fault {kind}": fault_lines(PLATE, language, kind) for kind in ("vehicle", "pedestrian")}
    for way in ("entrance", "exit"):
        told[f"storage_failed {way}"] = refusal_lines("storage_failed", PLATE, language, way)
    return told


def _plateless(language: str) -> dict[str, list[str]]:
    """What a lane shows to nobody in particular: idle, closed, a hold's words."""
    told = {f"idle {kind}": idle_lines(language, kind) for kind in ("vehicle", "pedestrian")}
    told |= {f"closed {way}": closed_lines(language, way) for way in ("entrance", "exit")}
    told |= {f"held {way}": let_through_lines(None, language, way) for way in ("entrance", "exit")}
    return told


def _with_plate(language: str) -> dict[str, list[str]]:
    return _greetings(language) | _fees(language) | _refusals(language) | _faults(language)


def _panel(lines: list[str], width: int) -> list[str]:
    """The lines as the panel is sent them (display_bytes, as SerialTextDisplay.show sends them)."""
    return display_bytes(lines, "gb18030", "crlf", width).decode("gb18030").split("\r\n")[:-1]


def _words(lines: list[str]) -> list[str]:
    return [word for line in lines for word in line.split()]


@pytest.mark.parametrize("width", [4, 5, 6, 8])
@pytest.mark.parametrize("told", ["with plate", "plateless"])
def test_no_english_word_is_cut(width: int, told: str) -> None:
    """Every word the board is sent is a word of the text, whole: none is wider than a 64-dot line."""
    texts = _with_plate("en") if told == "with plate" else _plateless("en")
    for name, lines in texts.items():
        words = [line for line in lines if line not in (PLATE, TICKET)]
        panel = _panel(words, width)
        assert set(_words(panel)) <= set(_words(words)), (name, width, panel)


@pytest.mark.parametrize("width", [4, 8])
def test_the_plate_is_on_a_line_of_its_own_within_three(width: int) -> None:
    """A 64-dot (4) and a 128-dot (8) panel of three lines show what the driver is told and his plate.
    At width 4 a fault's FAULT: / SEE / GUARD leaves the plate the fourth line, as Chinese 道闸故障 /
    请联系保 / 安 does; a car with no plate's ticket is broken at its dashes there (its own lines)."""
    for name, lines in _with_plate("en").items():
        panel = _panel(lines, width)
        plate = lines[-1]
        assert plate in (PLATE, TICKET), name
        first = len(panel) - len(panel_lines(plate, width))
        assert panel[first:] == panel_lines(plate, width), (name, width, panel)
        if width == 4 and name.startswith(("fault", "storage_failed")):
            assert first == 3, (name, panel)
            continue
        assert first <= 2, (name, width, panel)
        if plate == PLATE:
            assert len(panel) <= 3, (name, width, panel)


@pytest.mark.parametrize("width", [4, 8])
def test_a_board_with_no_plate_fits_three_lines(width: int) -> None:
    for name, lines in _plateless("en").items():
        assert len(_panel(lines, width)) <= 3, (name, width, _panel(lines, width))


def test_the_words_a_driver_reads() -> None:
    """Short, and still saying what the guard page says: why he pays, why he is kept out."""
    assert pay_lines(700, PLATE, "resident", "en") == ["PAY 7 YUAN", PLATE]
    assert pay_lines(700, PLATE, "temporary", "en") == ["TEMP: PAY 7", PLATE]
    assert refusal_lines("zone_full", PLATE, "en") == ["NO ENTRY", "FULL", PLATE]
    assert refusal_lines("closed_management", None, "en") == ["NO ENTRY", "LOCKDOWN"]
    assert refusal_lines("blocked", PLATE, "en", "exit") == ["NO EXIT", "BLOCKED", PLATE]
    assert _panel(pay_lines(700, PLATE, "temporary", "en"), 4) == ["TEMP:", "PAY 7", PLATE]
    assert _panel(pay_lines(700, PLATE, "temporary", "en"), 8) == ["TEMP: PAY 7", PLATE]
    assert _panel(refusal_lines("closed_management", None, "en"), 4) == ["NO ENTRY", "LOCKDOWN"]
    # The guard's page keeps its own, longer words.
    assert reason_text("closed_management", "en") == "closed management in force"


def test_chinese_is_unchanged() -> None:
    assert pay_lines(700, PLATE, "temporary") == ["临时车 请缴费 7元", PLATE]
    assert refusal_lines("anti_passback", PLATE) == ["禁止入内 重复入场", PLATE]
    assert idle_lines() == ["一车一杆 减速慢行"]


def test_the_voice_says_the_words_not_letters() -> None:
    """The voice is sent the board's lines (capitals throughout: espeak-ng spells PAY out as P-A-Y
    beside a word in small letters); only the plate is spelt apart."""
    assert spoken(pay_lines(700, PLATE, "resident", "en")) == "PAY 7 YUAN 鲁B 1 2 3 4 5"
    assert spoken(refusal_lines("zone_full", PLATE, "en")) == "NO ENTRY FULL 鲁B 1 2 3 4 5"


@pytest.mark.parametrize(
    ("word", "width", "panel"),
    [
        ("CONTRACTOR", 4, ["CONTRAC-", "TOR"]),
        ("MANAGEMENT IN FORCE", 4, ["MANAGEM-", "ENT IN", "FORCE"]),
        ("ANTI-PASSBACK", 4, ["ANTI-PA-", "SSBACK"]),
        ("CONTRACTOR", 8, ["CONTRACTOR"]),
        ("12345.67元", 4, ["12345.67", "元"]),  # not a Latin word: no hyphen, read as minus
        ("粤BD12345", 4, ["粤B", "D12345"]),
    ],
)
def test_a_latin_word_wider_than_the_line_is_cut_with_a_hyphen(
    word: str, width: int, panel: list[str]
) -> None:
    """Only where it must (a word wider than the whole line): the hyphen says it goes on."""
    assert word_lines(word, width) == panel


@pytest.fixture
def english_gw(tmp_path: Path) -> Iterator[Gateway]:
    toml = parking_toml(tmp_path / "data", capacity=20).replace("[site]\n", '[site]\nlanguage = "en"\n', 1)
    cfg = parse_config(toml, "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    yield gw
    gw.conn.close()


def test_an_english_site_tells_the_driver_in_its_board_words(english_gw: Gateway) -> None:
    """A real gateway on an English site: the car held to pay at the exit is sent board words."""
    gw = english_gw
    gw.handle(Presented("car-in", "plate", "苏E12345", 0.97, T0, "cam"))
    held = gw.handle(Presented("car-out", "plate", "苏E12345", 0.97, T0 + timedelta(hours=2), "cam"))
    assert held.reason == "payment_due"
    board = list(gw.devices.lanes["car-out"].displays[0].shown[-1])  # type: ignore[attr-defined]
    fee = held.fee_fen // 100
    assert board == [f"TEMP: PAY {fee}", "苏E12345"]
    assert _panel(board, 4) == ["TEMP:", f"PAY {fee}", "苏E12345"]
