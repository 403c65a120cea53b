"""Tariffs from the site config, and the price table people read (明码标价)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta

from gateway.config.parking import ClassRate, Parking
from gateway.core.windows import Window
from gateway.parking.fees import DAY, NightRate, Published, Rate, Tariff, yuan

CLASSES = ("car", "motorcycle", "bicycle")
CLASS_NAMES = {
    "car": ("小型车", "Cars"),
    "motorcycle": ("摩托车", "Motorcycles"),
    "bicycle": ("自行车", "Bicycles"),
}


def tariffs_from_config(parking: Parking) -> tuple[Tariff, ...]:
    return tuple(
        Tariff(
            version=t.version,
            effective_from=t.effective_from,
            rates={c: _rate(r) for c in CLASSES if (r := getattr(t, c)) is not None},
        )
        for t in parking.tariffs
    )


def known_since(tariffs: tuple[Tariff, ...], first_seen: Mapping[str, Published]) -> tuple[Tariff, ...]:
    """The versions, each with when the gateway first saw it and the stretches it was out of the
    config, put back since (`first_seen`: version -> Published, of every version it has seen since
    the first start that kept count, also those gone from the config since:
    config_seen.tariffs_first_seen). The versions of that first start, and any not kept yet, count
    as known for ever (less any stretch out since): the gateway cannot tell when they were
    published, and the cars parked across its upgrade keep paying as they would have. A version put
    back does not price the cars that came in while it was out: they were shown another's prices."""
    return tuple(
        replace(t, known_from=seen.since, out=seen.out)
        if (seen := first_seen.get(t.version)) is not None
        else t
        for t in tariffs
    )


def _rate(r: ClassRate) -> Rate:
    night = None
    if r.night is not None:
        night = NightRate(Window.parse(r.night.hours), r.night.period_fen, r.night.cap_fen)
    return Rate(
        free_minutes=r.free_minutes,
        free_deducted=r.free_deducted,
        first_period_minutes=r.first_period_minutes,
        first_period_fen=r.first_period_fen,
        period_minutes=r.period_minutes,
        period_fen=r.period_fen,
        daily_cap_fen=r.daily_cap_fen,
        night=night,
        max_per_stay_fen=r.max_per_stay_fen,
        visitor_free_minutes=r.visitor_free_minutes,
    )


def price_lines(rate: Rate | None, language: str = "zh") -> list[str]:
    """One class's prices in words, as the published price table shows them."""
    zh = language == "zh"
    if rate is None:
        return ["免费" if zh else "Free"]
    lines = []
    if rate.free_minutes:
        lines.append(_free_line(rate.free_minutes, rate.free_deducted, zh))
    if rate.first_period_minutes:
        lines.append(
            f"首{rate.first_period_minutes}分钟 {yuan(rate.first_period_fen)}元"
            if zh
            else f"First {rate.first_period_minutes} minutes: {yuan(rate.first_period_fen)} yuan"
        )
    p = rate.period_minutes
    then = ("之后" if zh else "Then each") if rate.first_period_minutes else ("" if zh else "Each")
    lines.append(
        f"{then}每{p}分钟 {yuan(rate.period_fen)}元（不足{p}分钟按{p}分钟计）"
        if zh
        else f"{then} {rate.period_minutes} minutes begun: {yuan(rate.period_fen)} yuan"
    )
    if rate.night is not None:
        n = rate.night
        cap = ""
        if n.cap_fen is not None:
            cap = f"，每晚最高{yuan(n.cap_fen)}元" if zh else f", at most {yuan(n.cap_fen)} yuan a night"
        lines.append(
            f"夜间 {n.window} 每{rate.period_minutes}分钟 {yuan(n.period_fen)}元{cap}"
            if zh
            else f"Night {n.window}: {yuan(n.period_fen)} yuan per period{cap}"
        )
    if rate.daily_cap_fen is not None:
        lines.append(
            f"每24小时最高 {yuan(rate.daily_cap_fen)}元"
            if zh
            else f"At most {yuan(rate.daily_cap_fen)} yuan per 24 hours"
        )
    if _cycles_change_fees(rate):
        lines.append(_cycles_line(rate, zh))
    if rate.max_per_stay_fen is not None:
        lines.append(
            f"单次停车最高 {yuan(rate.max_per_stay_fen)}元"
            if zh
            else f"At most {yuan(rate.max_per_stay_fen)} yuan per stay"
        )
    if rate.visitor_free_minutes:
        # The validated visitor's free time takes the free minutes' place (book.py), and a longer
        # stay pays as any longer stay does: from entry unless the free time is deducted.
        free = _free_line(rate.visitor_free_minutes, rate.free_deducted, zh)
        lines.append(f"访客经业主确认 {free}" if zh else f"Visitors validated by their host: {free}")
    return lines


def _free_line(minutes: int, deducted: bool, zh: bool) -> str:
    """Free time in words, with what a longer stay pays: the time beyond it, or the whole stay
    from entry (明码标价: the sign must not read as 'the first minutes free' when they are not)."""
    if zh:
        return f"{minutes}分钟内免费（{'超出部分计费' if deducted else '超时从入场起计费'}）"
    rest = "time beyond is charged" if deducted else "longer stays pay from entry"
    return f"Free up to {minutes} minutes ({rest})"


def _cycles_change_fees(rate: Rate) -> bool:
    """Whether the engine's 24-hour cycles (fees.py) make a long stay dearer than the rest of the
    sign reads: without the cycles line a 25-hour stay reads as the cap and one more period, and is
    charged the cap and a first period; at 2元 per 100 minutes it reads as 15 periods, and is
    charged 16, the period the 24-hour cut falls in charged in full (明码标价)."""
    return (
        bool(rate.first_period_minutes)
        or rate.daily_cap_fen is not None
        or rate.night is not None
        or DAY % timedelta(minutes=rate.period_minutes) != timedelta(0)
    )


def _cycles_line(rate: Rate, zh: bool) -> str:
    """The cycles as the engine counts them: from the end of the free time where it is deducted
    (fees.stay_fee moves the start of the stay there, a validated visitor's longer free time too),
    else from entry; restarting with the first period where the rate has one."""
    after_free = rate.free_deducted and bool(rate.free_minutes or rate.visitor_free_minutes)
    if zh:
        since = "免费时段后" if after_free else "入场起"
        again = "重新从首段起计费" if rate.first_period_minutes else "重新起算计费周期"
        return f"{since}每满24小时，{again}"
    since = "after the free time" if after_free else "from entry"
    again = "first period first" if rate.first_period_minutes else "its periods counted anew"
    return f"Each 24 hours {since} is charged afresh, {again}"
