"""What a stay owes: the pure rules between the fee engine and the store.

A stay is billable when it began as temporary or visitor parking, and a monthly car's stay from the
moment its paid-up period (monthly_until, as it is now: a renewal pushed while the car is parked
counts) ended. It is charged up to its end, or up to when its car moved onto its own slot (一位多车
handover), or up to the renewal of a monthly car that came in paying because its period had run out
(gateway/store/renewals.py), or, when the fee was paid at the booth or the lane and the car leaves
within the grace period, up to the moment it was paid for. A renewal's period that ends while the
car is still parked (taken back, moved back, or run out) bills it again from its end, to its exit or
handover (or where the fee stops, paid or held), priced on its own as the time after a monthly
car's period is; no time is billed twice, and a renewal, taken back or not, never makes a stay cost
more than it would never renewed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from gateway.parking.fees import Rate, Tariff, stay_fee, tariff_at, tariff_of_stay
from gateway.timefmt import CLOCK_ALARM, elapsed, later

BILLABLE = ("temporary", "visitor")
# A stay that ends "before" it began cannot be timed: the gateway's clock is behind its entry (a
# Pi rebooted on fake-hwclock's stale time, before NTP sets it). It is charged a day's fee
# (day_fee, 按一天收费, as a car with no entry record under exit_without_entry = "charge"): never
# let out free, and held at the barrier, where the guard takes the fee or lets the car out by hand
# for what it owes. A day without a cap is one of real time (timefmt.later): on the day the clocks
# change too. Not a stay paid up and leaving within its grace: its fee stops where it was paid up
# to (fee_end).
UNTIMED = timedelta(days=1)
# The billings a run-out monthly period makes a car pay by time under: a monthly stay, and one that
# came in as a temporary car because its period had lapsed. Not a car on its own slot (billing
# slot), which a lapsed month costs nothing.
MONTH_LAPSES = ("monthly", "temporary")


@dataclass(frozen=True, slots=True)
class StayFacts:
    id: int
    subject: str
    plate: str | None
    vehicle_class: str
    billing: str | None
    entered_at: datetime
    billed_until: datetime | None = None  # moved onto its slot, or renewed, then: billing stopped
    validated: bool = False  # a visitor's stay confirmed by the host unit
    slot_id: int | None = None
    # A monthly car's paid-up period, as the register has it now, else as its stay kept it (also
    # the period a renewal while parked paid for: billing resumes at its end).
    monthly_until: datetime | None = None
    renewed: bool = False  # billed_until is a renewal's, not a handover's (schema migration 27)
    handed_over_at: datetime | None = None  # moved onto its slot then (schema migration 28)
    # Billed again after a renewal's period ended, until a renewal after it (schema migration 28).
    billed_again: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True, slots=True)
class Paid:
    amount_fen: int
    fee_until: datetime  # the fee was worked out up to this moment when it was paid
    paid_at: datetime  # when the money was taken: the grace period to leave starts here
    grace: timedelta | None = None  # the grace it was given (None: before schema migration 52)


@dataclass(frozen=True, slots=True)
class Rules:
    tariffs: tuple[Tariff, ...]
    grace: timedelta
    tz: ZoneInfo
    reentry: Literal["void", "charge"] = "void"
    exit_without_entry: Literal["open", "guard", "charge"] = "guard"


@dataclass(frozen=True, slots=True)
class Charge:
    amount_fen: int
    tariff_version: str
    started_at: datetime | None
    ended_at: datetime


@dataclass(frozen=True, slots=True)
class Quote:
    """What a car owes now: this stay's fee, plus charges carried over, less what it has paid."""

    due_fen: int
    charge: Charge | None
    carried_fen: int
    paid_fen: int
    # Where the stay's fee was worked out to (fee_end): a payment of this quote is paid up to here,
    # not to the moment asked, which is later within an earlier payment's grace (None: no stay).
    fee_until: datetime | None = None


def month_ran_out(billing: str | None, until: datetime | None, at: datetime) -> datetime | None:
    """The end of the monthly period (`until`) a car billed `billing` pays by time for at `at`: the
    driver is told 月租到期, the guard's panel and pay dialog its last day. None for a period that
    runs on (a monthly car paid up that owes only a charge carried from before), for none known,
    and for a billing a lapsed month costs nothing (MONTH_LAPSES). Which period is the caller's to
    read: its stay's (StayFacts.monthly_until) or the register's."""
    if billing not in MONTH_LAPSES or until is None or until > at:
        return None
    return until


def fee_end(
    at: datetime, payments: list[Paid], grace: timedelta, entered: datetime | None = None
) -> datetime:
    """Paid, and leaving within the grace period after paying: the fee stops where it was paid up
    to (for a fee taken at the lane, the moment the car was held there, however long the guard
    took to confirm it). Of two payments worked out to the same moment (the rest of a fee taken
    within an earlier one's grace), the later one's grace counts. A payment's grace is the longer of
    the one it was given (its receipt's leave_by) and `grace`, the config's now: a grace lowered
    since asked a car for more before the time its receipt gave. `at` before the stay's entry
    (`entered`) within that grace is the clock set back since the payment (NTP correcting a fast
    clock): the fee stops where it was paid up to, the stay charged what it paid. Run to `at`, the
    stay could not be timed, and the car that owed nothing was asked a day's fee less what it paid.
    The grace reaches back no further than CLOCK_ALARM before the payment, the largest step of the
    clock taken silently: set back more (a bad NTP server, a wrong date set right), the car that
    paid once left free however long it stayed after, until the clock came back to its entry."""
    if payments:
        last = max(payments, key=lambda p: (p.fee_until, p.paid_at))
        set_back_too_far = _before(at, later(last.paid_at, -CLOCK_ALARM))
        if not set_back_too_far and at <= last.paid_at + max(grace, last.grace or grace):
            if entered is not None and _before(at, entered):
                return last.fee_until
            return min(last.fee_until, at)
    return at


def stay_charge(stay: StayFacts, rules: Rules, end: datetime) -> Charge | None:
    """The charge for a billable stay up to `end`; None for slot and unbilled stays, and for a
    monthly car's stay whose billing stopped within its paid-up period (past it, the time after it
    is charged at the temporary rate of the version its entry pays, from the moment the period
    ended, until the stay ends or its car moved onto its own slot). An `end` before the car's entry
    is a clock behind it: charged a day's fee from its entry (day_fee).

    A renewed stay's pieces, each priced on its own, cost at most what the stay would never
    renewed: one stay from entry to `end` (or its handover), which the tariff's caps bound (the
    daily and night caps, the maximum per stay). Each piece starting its own first period and its
    own 24-hour cycles, a renewal taken back by mistake made the car pay more than the price table
    says a stay that long costs (单次停车最高50元 asked 59元)."""
    charge = _charge(stay, rules, end)
    if charge is None or not stay.renewed:
        return charge
    never_renewed = replace(stay, renewed=False, billed_until=stay.handed_over_at, billed_again=())
    never = _charge(never_renewed, rules, end)
    if never is not None and never.amount_fen < charge.amount_fen:
        return replace(charge, amount_fen=never.amount_fen)
    return charge


def _charge(stay: StayFacts, rules: Rules, end: datetime) -> Charge | None:
    """stay_charge before a renewed stay's cap."""
    entered = stay.entered_at.astimezone(rules.tz)
    stop: datetime | None = stay.billed_until
    again: list[tuple[datetime, datetime]] = []
    if stay.renewed and stop is not None and not _before(end, entered):
        stop, again = _after_renewal(stay, stop, end, rules.tz)
    if stop is not None:  # billing stopped then: known, whatever the clock says now
        end = stop if _before(end, entered) else min(end, stop)
    # The clock is behind when the stay ends before the car's entry, never before the start of its
    # billing: a monthly car's billing starts when its period ended, which may be after a handover
    # stopped it (then there is nothing to bill, not a day to charge).
    untimed = _before(end, entered)
    if untimed:
        end = entered  # never before it began
    start = entered
    if stay.billing == "monthly":
        if stay.monthly_until is None or end <= stay.monthly_until:
            return None
        start = max(entered, stay.monthly_until.astimezone(rules.tz))
    elif stay.billing not in BILLABLE:
        return None
    # The version is the entry's, whenever billing starts: a monthly car billed from its period's
    # end pays the prices published when it came in (明码标价), as its renewal's pieces do, not a
    # version added while it was parked and in force by the time its period ran out.
    priced = tariff_of_stay(rules.tariffs, entered)
    if priced is None:  # a site with no tariff: parking is free
        return Charge(0, "", start, end)
    tariff, priced_from = priced
    if _before(start, priced_from):  # the time before the first prices is free
        start = priced_from
    start = end if _before(end, start) else start  # a stay ended before the first prices: free
    rate = tariff.rate(stay.vehicle_class)
    if rate is None:
        return Charge(0, tariff.version, start, end)
    free = None
    if stay.validated:
        free = max(rate.free_minutes, rate.visitor_free_minutes)
    fee = day_fee(rate, start, free) if untimed else stay_fee(rate, start, end, free)
    for piece in again:  # each priced on its own, as the time after a monthly car's period is
        fee += stay_fee(rate, *piece, free)
        end = piece[1] if _before(end, piece[1]) else end
    return Charge(fee, tariff.version, start, end)


def _after_renewal(
    stay: StayFacts, renewed: datetime, end: datetime, tz: ZoneInfo
) -> tuple[datetime | None, list[tuple[datetime, datetime]]]:
    """A stay whose billing a renewal stopped at `renewed`: when its billing stops, and the times
    billed again: after a renewal's period ended and until a renewal after it, and after the period
    it has now ended (`monthly_until`: taken back, moved back, or run out while the car is parked),
    up to `end` or its handover. A period that ended no later than the renewal paid for none of the
    stay: it is billed as if never renewed, up to its handover."""
    again = [(a.astimezone(tz), b.astimezone(tz)) for a, b in stay.billed_again]
    last = end
    if stay.handed_over_at is not None and _before(stay.handed_over_at, end):
        last = stay.handed_over_at.astimezone(tz)
    if stay.monthly_until is None:
        return renewed, _merged(_cut(again, last))
    resumed = stay.monthly_until.astimezone(tz)
    if not _before(renewed, resumed):
        return stay.handed_over_at, []
    return renewed, _merged(_cut([*again, (resumed, last)], last))


def _cut(pieces: list[tuple[datetime, datetime]], last: datetime) -> list[tuple[datetime, datetime]]:
    """The pieces up to `last`, where the fee stops: a piece kept whole runs to the renewal that
    ended it, which may be after the fee paid at the booth (within its grace) or held at the lane
    was worked out to; priced whole, a renewal made the car owe more than it was asked."""
    return [(a, b if _before(b, last) else last) for a, b in pieces if _before(a, last)]


def _merged(pieces: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """The times billed again as a car paid for them: no moment twice, and time billed without a
    break as one piece. A period moved back after a second renewal resumes billing at an end
    before the time kept between the renewals (renewed 10:00, taken back 11:00, renewed 12:00,
    moved back to 11:00: 11:00-12:00 is kept, and billing resumes at 11:00)."""
    merged: list[tuple[datetime, datetime]] = []
    for start, until in sorted(pieces, key=lambda piece: piece[0].timestamp()):  # real time
        if merged and not _before(merged[-1][1], start):
            if _before(merged[-1][1], until):
                merged[-1] = (merged[-1][0], until)
            continue
        merged.append((start, until))
    return merged


def _before(a: datetime, b: datetime) -> bool:
    """`a` is before `b` in real time: out at 02:40 winter time is after in at 02:50 summer time
    (`a < b` compares two local times by the wall clock)."""
    return elapsed(b, a) < timedelta(0)


def no_entry_charge(vehicle_class: str, rules: Rules, at: datetime) -> Charge | None:
    """An unregistered vehicle leaving with no entry record, where the site charges it: a day of its
    class's rate (按一天收费, day_fee): the rate's daily cap, or, for a rate without one (a
    motorcycle's 1元 a day), what a 24-hour stay costs by it. Never free for a class the tariff
    prices: that is "open". A class it does not price parks free."""
    if rules.exit_without_entry != "charge":
        return None
    local = at.astimezone(rules.tz)
    tariff = tariff_at(rules.tariffs, local)
    rate = tariff.rate(vehicle_class) if tariff else None
    if tariff is None or rate is None:
        return None
    return Charge(day_fee(rate, later(local, -UNTIMED)), tariff.version, None, at)


def day_fee(rate: Rate, start: datetime, free_minutes: int | None = None) -> int:
    """A day's fee from `start` (按一天收费), for a stay that cannot be timed and a car with no entry
    record alike: the rate's daily cap, or, for a rate without one, what a 24-hour stay from
    `start` costs by it; never more than its maximum per stay (no stay pays more, however long).
    The cap, not 24 hours by the hour: where the cap is above those (每24小时最高40元, 38元 by the
    hour from 09:00), the car would owe less for a day it cannot be timed than a stranger does."""
    if rate.daily_cap_fen is None:
        return stay_fee(rate, start, later(start, UNTIMED), free_minutes)
    if rate.max_per_stay_fen is None:
        return rate.daily_cap_fen
    return min(rate.daily_cap_fen, rate.max_per_stay_fen)


def quote(
    stay: StayFacts | None,
    payments: list[Paid],
    carried_fen: int,
    rules: Rules,
    at: datetime,
    *,
    vehicle_class: str = "car",
    unregistered: bool = False,
) -> Quote:
    """What a car owes at `at`. `unregistered`: with no stay open, it is a stranger's plate whose
    entry was missed, charged a day's fee where the site says so (no_entry_charge); never a ticket,
    which only an entrance gives (the caller tells: gateway/parking/desk_checks.py missed_entry)."""
    until = None
    if stay is not None:
        until = fee_end(at, payments, rules.grace, stay.entered_at)
        charge = stay_charge(stay, rules, until)
    elif unregistered:
        charge = no_entry_charge(vehicle_class, rules, at)
    else:
        charge = None
    paid = sum(p.amount_fen for p in payments)
    owed = (charge.amount_fen if charge else 0) + carried_fen
    return Quote(max(0, owed - paid), charge, carried_fen, paid, until)
