"""Words for people: reasons a guard reads and the lines a lane display shows a driver."""

from __future__ import annotations

from gateway.core.tickets import NO_PLATE
from gateway.events import AccessEvent
from gateway.parking.fees import yuan

REASONS: dict[str, tuple[str, str]] = {
    "resident": ("业主", "resident"),
    "monthly": ("月租车", "monthly vehicle"),
    "visitor": ("访客", "visitor"),
    "contractor": ("施工人员", "contractor"),
    "temporary": ("临时车", "temporary vehicle"),
    "unknown": ("未登记", "not registered"),
    "expired": ("已过期", "expired"),
    "not_yet_valid": ("未到有效期", "not yet valid"),
    "blocked": ("已禁用", "blocked"),
    "outside_hours": ("不在通行时段", "outside opening hours"),
    "no_slot": ("无车位", "no parking slot"),
    "slot_occupied": ("车位已占用", "slot already occupied"),
    "zone_full": ("车位已满", "car park full"),
    "anti_passback": ("重复入场", "already inside (anti-passback)"),
    # Not "封闭管理期间 禁止入内": the display puts 禁止入内 before every reason (display_lines).
    "closed_management": ("封闭管理中", "closed management in force"),
    "wrong_lane": ("通道不符", "wrong lane"),
    "lane_closed": ("通道已关闭", "lane closed"),
    "storage_failed": ("系统故障 请联系保安", "storage failure: call the guard"),
    "payment_due": ("请缴费", "payment due"),
    "exit_button": ("出门按钮", "exit button"),
}


# What an English site's lane board says (Review 66L), not the guard page's words (REASONS): a
# line of a 64-dot panel (width 4) holds 8 letters, of a 128-dot one 16, and `Temporary vehicle:
# please pay 7 yuan` went as Temporar / y / vehicle: / please / pay 7 / yuan, the plate on a 7th
# line of a panel of three. Each word here fits a 64-dot line, and each text goes on two of them at
# most, the plate on the third (a fault's FAULT: / SEE / GUARD excepted; docs/hardware.md). In
# capitals: the voice says these lines, and espeak-ng spells a word in capitals out (P-A-Y) beside
# one in small letters. A refusal is two lines, NO ENTRY (NO EXIT) and why.
_BOARD_EN: dict[str, str] = {
    "resident": "RESIDENT",
    "monthly": "MONTHLY",
    "visitor": "VISITOR",
    "contractor": "CREW",
    "temporary": "TEMP CAR",
    "unknown": "UNKNOWN",
    "expired": "EXPIRED",
    "not_yet_valid": "NOT YET",
    "blocked": "BLOCKED",
    "outside_hours": "NOT NOW",
    "no_slot": "NO SLOT",
    "slot_occupied": "OCCUPIED",
    "zone_full": "FULL",
    "anti_passback": "INSIDE",
    "closed_management": "LOCKDOWN",
    "wrong_lane": "NOT HERE",
    "lane_closed": "CLOSED",
    "payment_due": "UNPAID",
    "exit_button": "BUTTON",
}
# A fault sends the driver to the guard; 16 letters, on a 64-dot panel FAULT: / SEE / GUARD.
_SEE_GUARD = "FAULT: SEE GUARD"


# The fee asked at an exit, by whose car it is (the holder's kind; "monthly": a monthly car whose
# paid-up period has run out, while it was parked or before it came in: flag monthly_expired). A
# monthly car paid up that owes a charge carried from before is asked as its holder's car. English
# says YUAN only where no word says whose car it is: TEMP: / PAY 7 / YUAN is three 64-dot lines.
_PAYS: dict[str, tuple[str, str]] = {
    "resident": ("请缴费", "PAY {fee} YUAN"),
    "visitor": ("访客 请缴费", "VISITOR: PAY {fee}"),
    "contractor": ("施工车 请缴费", "CREW: PAY {fee}"),
    "monthly": ("月租到期 请缴费", "EXPIRED: PAY {fee}"),
    "temporary": ("临时车 请缴费", "TEMP: PAY {fee}"),
}


# A resident's car let in as a temporary car because its registration has not begun or has ended
# (decide.py REGISTRATION_FLAGS): told why it pays, not taken for a stranger's car or a misread plate.
_UNREGISTERED_NOW: dict[str, tuple[str, str]] = {
    "registration_not_yet_valid": ("登记未生效 临时车 请入场", "NOT YET: TEMP"),
    "registration_expired": ("登记已过期 临时车 请入场", "EXPIRED: TEMP"),
}


# A resident's car let in as a temporary car because of its slot (decide.py _vehicle_entry): the
# second car of a shared slot whose first car is in (一位多车), a car with no slot. Told why it pays,
# as the guard's page says it, not greeted as a stranger's car (Review 66C).
_NO_SLOT_NOW: dict[str, tuple[str, str]] = {
    "shared_slot": ("一位多车 临时车 请入场", "2ND CAR: TEMP"),
    "no_slot": ("无车位 临时车 请入场", "NO SLOT: TEMP"),
}


# A visitor kept out by a closed-management period: his pass lacks what the period asks for
# (core/windows.py keeps_out), which the booth registers. Told 禁止入内 封闭管理中, a stranger's
# refusal, he was not told where to go (Review 66C).
_REGISTER_AT_BOOTH = ("封闭管理 请到岗亭登记", "REGISTER AT BOOTH")


# Said at a lane whose barrier (or door lock) was to open and did not take its pulse: its relay
# board unplugged or without power. As storage_failed, the driver is sent to the guard.
_FAULTS: dict[str, tuple[str, str]] = {
    "vehicle": ("道闸故障 请联系保安", _SEE_GUARD),
    "pedestrian": ("门禁故障 请联系保安", _SEE_GUARD),
}


# What a lane shows once its barrier (or door lock) is shut again and nobody is being decided
# (idle_lines): the words a barrier's LED reads between cars, never one that tells anyone to go.
_IDLE: dict[str, tuple[str, str]] = {
    "vehicle": ("一车一杆 减速慢行", "ONE CAR, GO SLOW"),
    "pedestrian": ("请刷卡或扫码", "TAP CARD OR SCAN"),
}


def reason_text(reason: str, language: str = "zh") -> str:
    zh, en = REASONS.get(reason, (reason, reason))
    return zh if language == "zh" else en


def display_lines(
    ev: AccessEvent,
    language: str = "zh",
    direction: str = "entrance",
    *,
    monthly_ended: bool = False,
    pass_car: str | None = None,
) -> list[str]:
    """What the lane display tells the driver or walker, e.g. 欢迎回家 / 皖A12345. A monthly car past
    its paid-up period (flag monthly_expired where it comes in; `monthly_ended` for one held at an
    exit to pay, whose decision there carries no flag) is told so, 月租到期, rather than taken for a
    stranger's car or asked for money with no reason: its driver is the one to renew. Billed
    monthly is not enough: a car paid up for months that owes a charge carried from before (a
    re-entry's) is asked as its holder's car, 请缴费 11元, not sent to renew its pass.
    `pass_car`: the plate of the car a pass's QR was shown for, read a moment before (its stay now
    the pass's): the visitor is welcomed, 欢迎光临 京B11111, as when his QR comes first, though the
    decision repeats the plate's (temporary); told 临时车 请入场 without a plate, he was taken for a
    stranger's car (Review 66C)."""
    who = ev.plate or pass_car or ""
    lapsed = monthly_ended or "monthly_expired" in ev.flags
    # A car with no plate: its ticket on the second line, 无牌车 where a temporary car's words say
    # 临时车, so that the driver is sure the number shown is his.
    no_plate = NO_PLATE in ev.flags
    if ev.admitted and direction == "exit":
        return let_through_lines(who, language, direction)
    if ev.reason == "payment_due":
        return pay_lines(ev.fee_fen, who, ev.holder_kind, language, lapsed=lapsed, no_plate=no_plate)
    if ev.admitted:
        if ev.reason == "temporary" and pass_car:
            first = "欢迎光临" if language == "zh" else "WELCOME"
        elif ev.reason == "temporary" and lapsed:
            # Paying by time until renewed: told so, not taken for a stranger's car or a misread plate.
            first = "月租到期 临时车 请入场" if language == "zh" else "MONTHLY ENDED"
        elif ev.reason == "temporary" and (told := _unregistered_now(ev.flags, language)):
            first = told
        elif ev.reason == "temporary" and no_plate:
            first = "无牌车 请入场" if language == "zh" else "YOUR TICKET:"
        elif ev.reason == "temporary" and (told := _flagged(_NO_SLOT_NOW, ev.flags, language)):
            first = told
        elif ev.reason == "temporary":
            first = "临时车 请入场" if language == "zh" else "TEMP: ENTER"
        elif ev.reason == "resident":
            first = "欢迎回家" if language == "zh" else "WELCOME HOME"
        else:
            first = "欢迎光临" if language == "zh" else "WELCOME"
        return [first, who] if who else [first]
    if ev.reason == "closed_management" and ev.holder_kind == "visitor":
        zh, en = _REGISTER_AT_BOOTH
        first = zh if language == "zh" else en
        return [first, who] if who else [first]
    return refusal_lines(ev.reason, who, language, direction)


def _unregistered_now(flags: tuple[str, ...], language: str) -> str | None:
    return _flagged(_UNREGISTERED_NOW, flags, language)


def _flagged(words: dict[str, tuple[str, str]], flags: tuple[str, ...], language: str) -> str | None:
    """The words of the first of `flags` that has some, in `language`."""
    for flag in flags:
        if flag in words:
            zh, en = words[flag]
            return zh if language == "zh" else en
    return None


def pay_lines(
    fee_fen: int,
    plate: str | None,
    holder_kind: str | None,
    language: str = "zh",
    *,
    lapsed: bool = False,
    no_plate: bool = False,
) -> list[str]:
    """A car held at an exit to pay, e.g. 临时车 请缴费 7元 / 苏E12345: told by its decision
    (display_lines), and again by a release by hand while it still owes (hand_lanes). `lapsed`: a
    monthly car past its paid-up period (月租到期); `no_plate`: a car on a ticket (无牌车)."""
    # Whose car it is, in the driver's words: a crew's van called 临时车 (temporary) tells its
    # foreman, who holds a pass, that the van is not registered.
    kind = "monthly" if lapsed else holder_kind or ""
    zh, en = _PAYS.get(kind, _PAYS["temporary"])
    if no_plate:
        zh, en = "无牌车 请缴费", "TICKET: PAY {fee}"
    first = f"{zh} {yuan(fee_fen)}元" if language == "zh" else en.format(fee=yuan(fee_fen))
    return [first, plate] if plate else [first]


def refusal_lines(
    reason: str, plate: str | None, language: str = "zh", direction: str = "entrance"
) -> list[str]:
    """A car or walker refused, e.g. 禁止通行 已禁用 / 苏E12345: told by its decision
    (display_lines), and again by a release by hand while the car refused a moment ago is still at
    the exit's barrier (hand_lanes)."""
    refused = _refusal(reason, language, direction)
    return [*refused, plate] if plate else refused


def _refusal(reason: str, language: str, direction: str) -> list[str]:
    # A driver refused at an exit is trying to leave: "no entry" would tell him the wrong thing.
    if language == "zh":
        return [("禁止通行 " if direction == "exit" else "禁止入内 ") + reason_text(reason, language)]
    if reason == "storage_failed":
        return [_SEE_GUARD]  # the barrier stays down: NO ENTRY above it would take the third line
    why = _BOARD_EN.get(reason) or reason_text(reason, language).upper()
    return ["NO EXIT" if direction == "exit" else "NO ENTRY", why]


def let_through_lines(plate: str | None, language: str = "zh", direction: str = "entrance") -> list[str]:
    """A lane opened for whoever is there, e.g. by the guard's hand (开闸): at an exit the goodbye
    an admitted car gets (一路平安 / 鲁B12345), at an entrance 请通行, since who it is is not known."""
    if direction == "exit":
        first = "一路平安" if language == "zh" else "GOODBYE"
    else:
        first = "请通行" if language == "zh" else "GO AHEAD"
    return [first, plate] if plate else [first]


def idle_lines(language: str = "zh", lane_type: str = "vehicle") -> list[str]:
    """A lane with nobody being decided, its barrier (or door lock) shut again: a lane held open
    and released (恢复), or a closed lane reopened. Left reading 请通行 or 一路平安, the board told
    the next driver to go at a lowered arm; the voice says it once, as the barrier comes down."""
    zh, en = _IDLE.get(lane_type, _IDLE["vehicle"])
    return [zh if language == "zh" else en]


def closed_lines(language: str = "zh", direction: str = "entrance") -> list[str]:
    """A lane the guard or the centre closed (关闭通道): what everyone at it is told until it is
    reopened, the refusal of its decisions (reason lane_closed), e.g. 禁止入内 通道已关闭."""
    return _refusal("lane_closed", language, direction)


def fault_lines(plate: str | None, language: str = "zh", lane_type: str = "vehicle") -> list[str]:
    """A lane whose barrier or door lock should have opened and did not (no relay took its pulse):
    a greeting would tell a driver at a shut barrier to go, e.g. 道闸故障 请联系保安 / 鲁B11111."""
    zh, en = _FAULTS.get(lane_type, _FAULTS["vehicle"])
    first = zh if language == "zh" else en
    return [first, plate] if plate else [first]
