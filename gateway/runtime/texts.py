"""Words for people: reasons a guard reads and the lines a lane display shows a driver."""

from __future__ import annotations

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
    "anti_passback": ("重复进入", "already inside (anti-passback)"),
    # Not "封闭管理期间 禁止入内": the display puts 禁止入内 before every reason (display_lines).
    "closed_management": ("封闭管理中", "closed management in force"),
    "wrong_lane": ("通道不符", "wrong lane"),
    "lane_closed": ("通道已关闭", "lane closed"),
    "storage_failed": ("系统故障 请联系保安", "storage failure: call the guard"),
    "payment_due": ("请缴费", "payment due"),
}


def reason_text(reason: str, language: str = "zh") -> str:
    zh, en = REASONS.get(reason, (reason, reason))
    return zh if language == "zh" else en


def display_lines(ev: AccessEvent, language: str = "zh", direction: str = "entrance") -> list[str]:
    """What the lane display tells the driver or walker, e.g. 欢迎回家 / 皖A12345."""
    who = ev.plate or ""
    if ev.admitted and direction == "exit":
        first = "一路平安" if language == "zh" else "Goodbye"
        return [first, who] if who else [first]
    if ev.reason == "payment_due":
        zh = language == "zh"
        kind = {"resident": "", "visitor": "访客 "}.get(ev.holder_kind or "", "临时车 ")
        if ev.billing == "monthly":  # its paid-up period ended while it was parked
            kind = "月租到期 "
        first = f"{kind}请缴费 {yuan(ev.fee_fen)}元" if zh else f"Please pay {yuan(ev.fee_fen)} yuan"
        return [first, who] if who else [first]
    if ev.admitted:
        if ev.reason == "temporary":
            first = "临时车 请入场" if language == "zh" else "Temporary vehicle"
        elif ev.reason == "resident":
            first = "欢迎回家" if language == "zh" else "Welcome home"
        else:
            first = "欢迎光临" if language == "zh" else "Welcome"
        return [first, who] if who else [first]
    # A driver refused at an exit is trying to leave: "no entry" would tell him the wrong thing.
    words = ("禁止通行 ", "Cannot exit: ") if direction == "exit" else ("禁止入内 ", "No entry: ")
    refused = words[0 if language == "zh" else 1] + reason_text(ev.reason, language)
    return [refused, who] if who else [refused]
