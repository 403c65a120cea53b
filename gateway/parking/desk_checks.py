"""What the parking desk (gateway/parking/service.py) checks and reads before it takes a fee or
closes a stay, and how it words a quote and a plate typed at the booth."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, tzinfo
from typing import Any, NoReturn

from gateway.config.common import most_allowed
from gateway.config.parking import Parking as ParkingConfig
from gateway.core import CredentialFacts, LaneRules, Presented, Reason
from gateway.core.credentials import BadCredential, canonical
from gateway.core.tickets import (
    as_ticket_or_number,
    is_ticket,
    meant_as_number,
    meant_as_ticket,
    says_no_plate,
)
from gateway.events import AccessEvent
from gateway.parking.book import StayFacts, month_ran_out
from gateway.parking.fees import yuan
from gateway.store.holds import AT_THE_BARRIER, Held
from gateway.store.parking import Owed, ParkingError, stay_by_id
from gateway.store.tickets import no_such_ticket, tickets_data, tickets_named
from gateway.timefmt import elapsed, last_day, later, to_db

METHODS = ("cash", "qr", "monthly")
# `monthly` puts the fee on the car's monthly account (月租), billed with its renewal: no money is
# taken at the gate. A car has one when it is on the register with a monthly period, paid up or run
# out (vehicles.monthly_until set); every other car (a stranger's, a visitor's, a resident's car with
# no period, one struck off the register, one named only by a card or pass) pays in cash or by QR.
TAKEN_AT_THE_GATE = ("cash", "qr")
_MONTHLY_ACCOUNT = "SELECT 1 FROM vehicles WHERE id = ? AND monthly_until IS NOT NULL"

# How far back a payment within its grace is looked for: the longest grace a payment can have been
# given (parking.grace_minutes' most); each is then judged by its own (ParkingDesk._within_its_grace,
# prepaid_already).
LONGEST_GRACE = timedelta(minutes=most_allowed(ParkingConfig, "grace_minutes"))
# The booth payments of an amount for a car, newest first, taken since a moment, with the grace each
# was given (prepaid_already): on its open stay (:stay), or by whom it paid for or its plate, with no
# stay (charges carried paid off) or on a stay that has ended (paid ahead, the car then left within
# its grace, or a guard or admin closed its stay; and maybe came back in since, review 62g: the
# retry was told nothing_owed, "open the barrier", for the car that had just come in), on the
# payments' time index.
_PAID_AT_BOOTH_SINCE = """
SELECT p.receipt, p.at, g.grace_s FROM payments p INDEXED BY payments_at
LEFT JOIN payment_graces g ON g.payment_id = p.id
WHERE p.at >= :since AND p.lane = 'booth' AND p.amount_fen = :amount AND (
  p.stay_id = :stay
  OR (p.subject = :subject OR p.plate = :plate) AND (p.stay_id IS NULL OR EXISTS (
    SELECT 1 FROM stays s WHERE s.id = p.stay_id AND s.exited_at IS NOT NULL)))
ORDER BY p.at DESC, p.id DESC
"""
# A payment for a car from its hold's start to its let-out (paid_for_hold): taken in between, on the
# payments' time index; with the wall clock set back during the hold (NTP correcting a clock that
# ran fast), what was taken then is dated before the hold began, and is found by what it paid for:
# the fee taken at the lane, dated as the decision that let the car out (:out), or a payment of the
# stay that decision closed (on the stays' exit index) paying its fee to the hold's start, as a fee
# taken for the hold is worked out (fee_until). On a steady clock those are taken in between too.
_PAID_IN_HOLD = """
SELECT 1 FROM payments INDEXED BY payments_at
WHERE at >= min(:began, :out) AND at <= :out AND (plate = :car OR subject = :holder)
UNION ALL
SELECT 1 FROM stays s INDEXED BY stays_exited JOIN payments p INDEXED BY payments_stay ON p.stay_id = s.id
WHERE s.exited_at = :out AND p.fee_until >= :began AND (p.plate = :car OR p.subject = :holder)
LIMIT 1
"""
# The newest payment (by record) on a stay, or by whom it pays for, since its hold began
# (paid_while_held): taken since then, on the payments' time index (a hold is minutes old); or, with
# the wall clock set back during the hold (a payment taken then is dated before the hold began), a
# payment of the stay paying its fee to the hold's start or later, as one taken for the hold is
# worked out (fee_until; on a steady clock it is taken since the hold began too), on the stay's index.
_PAID_SINCE_HOLD = """
SELECT receipt, amount_fen, at FROM payments WHERE id = (SELECT max(id) FROM (
    SELECT id FROM payments INDEXED BY payments_at
    WHERE at >= :began AND (stay_id = :stay OR subject = :subject)
    UNION ALL
    SELECT id FROM payments INDEXED BY payments_stay WHERE stay_id = :stay AND fee_until >= :began))
"""
# A car's open stay in since a moment (ParkingDesk.let_out_by_hand, a car found with none).
_OPEN_BEFORE = """
SELECT id FROM stays WHERE subject = ? AND exited_at IS NULL AND entered_at <= ? ORDER BY id DESC LIMIT 1
"""


def missed_entry(p: Presented, cred: CredentialFacts | None) -> bool:
    """Whether a car with no stay open is a stranger whose entry was missed, charged a day's fee
    under exit_without_entry = "charge": an unregistered plate, never a ticket. A ticket is only
    ever given at an entrance, so one with no stay open is a car that left (let out owing by hand)
    or a slip of the guard's pen, never a car that came in unseen (the lane refuses it `unknown`,
    core/decide.py): what is carried on it is all it owes. Taken for a stranger, the quote on the
    ticket of a car let out owing 7元 asked 37元."""
    return cred is None and not (p.kind == "plate" and is_ticket(p.value))


def settled_at(conn: sqlite3.Connection, charge_id: int, at: datetime) -> bool:
    found = conn.execute("SELECT settled_at FROM charges WHERE id = ?", (charge_id,)).fetchone()
    return found is not None and found[0] == to_db(at)


def host_unit(conn: sqlite3.Connection, subject: str) -> tuple[str, str] | None:
    """The building and unit on the pass a stay is under (a visitor's or contractor's), as written
    on it: None for a stay on no pass, or on one withdrawn since; ("", "") for a pass that names no
    host (the visitor form asks for none outside closed management), whose car any unit where a
    resident lives validates, as a stranger's (ParkingDesk.validate). A host named is read as the
    visitor form took it (units.host_units): a unit nobody lives in names no unit that validates."""
    if not subject.startswith(("visitor:", "contractor:")):
        return None
    row = conn.execute(
        "SELECT host_building, host_unit FROM passes WHERE id = ?", (int(subject.split(":", 1)[1]),)
    ).fetchone()
    return None if row is None else (row[0], row[1])


def recorded_since(conn: sqlite3.Connection, subject: str, at: datetime) -> StayFacts | None:
    """The car's open stay that came in at or before `at`, if any: one recorded inside since an
    opening by hand at `at` found it with none."""
    row = conn.execute(_OPEN_BEFORE, (subject, to_db(at))).fetchone()
    return None if row is None else stay_by_id(conn, row[0])


def still_open(conn: sqlite3.Connection, stay_id: int) -> StayFacts | None:
    """The stay as it stands now, if it is still open."""
    open_now = conn.execute("SELECT 1 FROM stays WHERE id = ? AND exited_at IS NULL", (stay_id,)).fetchone()
    return stay_by_id(conn, stay_id) if open_now else None


def paid_up_to(account: Owed, until: datetime) -> datetime:
    """Where a payment of `account` pays the stay's fee up to: where its fee was worked out to,
    which within an earlier payment's grace is that payment's end, not `until` (the hold, or now).
    Recorded as `until`, the rest of a carried charge taken at the lane within a booth payment's
    grace moved the fee's end past what was paid for, and the exit it pays for asked more."""
    return account.quote.fee_until or until


def fee_until(held: Held | None, at: datetime) -> datetime:
    """Where the fee of a car at an exit lane at `at` ends: at the start of its hold there, while it
    is held and not let out since (the camera decides a standing car again every few seconds, and
    the display, the guard's quote and the fee taken must be one amount); else at `at`."""
    return held.at if held is not None and held.let_out_at is None else at


def held_since(held: Held | None, at: datetime) -> datetime | None:
    """When the hold of the car decided at an exit at `at` began, while the car stands held at the
    barrier: not let out since, its hold's last decision there within AT_THE_BARRIER (the camera
    decides a standing car again every 15 s, each repeat a decision of the hold). The lane's hours
    judge the car then (decide._held_in_hours). A car held at 22:58 that backed away and comes back
    at 23:25 to an exit open to 23:00 is a car that came after the hours, though its hold is kept
    for its fee; so judged, coming back every 27 minutes kept that hold, and the exit open to it,
    all night (review Re1). Not `Presented.again`: the car decided again may be one refused
    outside_hours a moment ago, its hold before that."""
    if held is None or held.let_out_at is not None:
        return None
    return held.at if at - (held.decided_at or held.at) <= AT_THE_BARRIER else None


def prepaid_already(
    conn: sqlite3.Connection,
    account: Owed,
    plate: str,
    amount_fen: int,
    at: datetime,
    grace: timedelta,
    tz: tzinfo,
) -> None:
    """A booth payment sent again (the kiosk or tablet lost the answer, its receipt left for the
    gateway to make, so check_receipt has no number to know it by) is refused `already_paid`,
    naming the receipt made and when, as at the lane (let_out_already): the same amount for the
    same stay, or for the same car with no stay or on a stay ended since (back in or not), taken
    within its grace (the longer of the one its receipt gave and the config's `grace`, as the exit
    judges it). Checked as a new payment, it was told `nothing_owed`, "the car may leave: open the
    barrier", for a car parked inside, with no receipt to hand the driver; and for a car that, paid
    up, drove out (or had its stay closed by a guard) before the retry came, "not recorded inside
    and owes nothing", the kiosk told its 7元 did not go through that the day's revenue counted.
    One that is the fee due now (a charge carried from a missed exit restored since, of the same
    amount by chance) is a payment of its own, taken."""
    if account.quote.due_fen == amount_fen:
        return
    named = {
        "since": to_db(later(at, -max(grace, LONGEST_GRACE))),
        "amount": amount_fen,
        "stay": account.stay.id if account.stay else None,
        "subject": account.subject,
        "plate": plate,
    }
    for receipt, paid_at, grace_s in conn.execute(_PAID_AT_BOOTH_SINCE, named):
        # None kept: paid before schema migration 52.
        if elapsed(datetime.fromisoformat(paid_at), at) <= max(grace, timedelta(seconds=grace_s or 0)):
            raise went_through(receipt, amount_fen, paid_at, tz)


def paid_while_held(conn: sqlite3.Connection, held: Held | None, account: Owed, tz: tzinfo) -> None:
    """A fee for a car still held at the lane that owes nothing now, paid since its hold began (at
    the booth's PC or kiosk while the exit tablet's 收费放行 dialog was open), is refused
    `already_paid`, naming that payment's receipt and time, as a fee taken at the lane on another
    tablet is (let_out_already). Told `nothing_owed` (该车现在无需缴费), the guard holding the
    driver's 7元 had no word that it was paid, nor a receipt to show him. Also with the wall clock
    set back during the hold, which dates that payment before the hold began (_PAID_SINCE_HOLD)."""
    if held is None or held.let_out_at is not None or account.quote.due_fen:
        return
    named = {
        "began": to_db(held.at),
        "stay": account.stay.id if account.stay else None,
        "subject": account.subject,
    }
    row = conn.execute(_PAID_SINCE_HOLD, named).fetchone()
    if row is not None:
        receipt, amount_fen, paid_at = row
        raise went_through(receipt, amount_fen, paid_at, tz)


def went_through(receipt: str, amount_fen: int, paid_at: str, tz: tzinfo) -> ParkingError:
    """`already_paid`: the payment that took the fee, by its receipt, amount and time (stored UTC,
    said in the site's time), in its data too: the guard's page names the receipt and when
    (err.already_paid.data), for the guard to show the driver, not "another tablet"."""
    when = datetime.fromisoformat(paid_at).astimezone(tz)
    return ParkingError(
        "nothing is owed",
        fix=f"receipt {receipt} for {yuan(amount_fen)}元 went through on {when:%Y-%m-%d at %H:%M}: "
        "take nothing again",
        code="already_paid",
        data={"receipt": receipt, "amount_fen": amount_fen, "paid_at": when.isoformat(timespec="seconds")},
    )


def let_out_already(conn: sqlite3.Connection, held: Held, car: str, tz: tzinfo) -> NoReturn:
    """A fee for a car whose hold at the lane has ended is refused: let through paid (on another
    tablet, at the booth's kiosk, or the guard's tablet sent it again), `already_paid`; let through
    with no fee taken for its hold (its stay validated by the host unit meanwhile: free),
    `left_without_fee`; let out by a guard's opening by hand, its fee let go or carried to its next
    visit and none taken, `let_out_by_hand`. A guard told a car paid that paid nothing books money
    nobody took."""
    out = (held.let_out_at or held.at).astimezone(tz)
    if held.by_hand:
        raise ParkingError(
            f"{car} was let out by hand at {out:%H:%M} with no fee taken",
            fix="take nothing: the car has left (its fee was let go, or carried to its next visit)",
            code="let_out_by_hand",
        )
    if not paid_for_hold(conn, held):
        raise ParkingError(
            f"{car} was let through at {out:%H:%M} with no fee taken for its hold",
            fix="take nothing: the car has left free (its stay was validated, or nothing was owed by then)",
            code="left_without_fee",
        )
    raise ParkingError(
        "nothing is owed",
        fix=f"{car} was let out at {out:%H:%M} after it was held here: take nothing again",
        code="already_paid",
    )


def paid_for_hold(conn: sqlite3.Connection, held: Held) -> bool:
    """Whether a payment was taken for the car `held` from its hold's start to its let-out: at an
    exit lane (recorded at the moment of the decision it let the car out on) or at the booth while
    it waited, also with the wall clock set back meanwhile (_PAID_IN_HOLD). A car is paid for by its
    plate, or, held on the QR of a pass without a plate or on a resident's card that names no car, by
    that pass or resident (pay_at_lane)."""
    if held.let_out_at is None:
        return False
    holder = f"{held.holder_kind}:{held.holder_id}" if held.holder_kind else None
    named = {"began": to_db(held.at), "out": to_db(held.let_out_at), "car": held.car, "holder": holder}
    return conn.execute(_PAID_IN_HOLD, named).fetchone() is not None


def no_fee_for_a_shut_barrier(conn: sqlite3.Connection, ev: AccessEvent, lane: LaneRules) -> None:
    """The fee a guard is taking at the lane (pay_at_lane's payment, at this decision's lane and
    moment) for a car the exit still refuses (the lane closed, the car blocked, outside the lane's
    hours) is undone with the decision: no money is recorded for a barrier that stays shut. Why is
    the error's `state` (the decision's reason); outside the lane's hours, the hours too: the guard
    is told so, not sent to reopen a lane that is open (review 65e1). Not that the car came after
    them: one misread at the barrier since before they ended, corrected after, is refused so too
    (docs/parking.md, *Nobody is kept in*; review Re1)."""
    taken = conn.execute(
        "SELECT 1 FROM payments WHERE at = ? AND lane = ? AND subject = ?",
        (to_db(ev.at), ev.lane, ev.subject),
    ).fetchone()
    if not taken:
        return
    car = ev.plate or named_car(ev.holder_kind, ev.holder_id)
    if ev.reason == Reason.OUTSIDE_HOURS:
        hours = ", ".join(str(w) for w in lane.hours)
        raise ParkingError(
            f"the exit {lane.id} is open {hours} only and refuses {car} outside them (not held at its "
            "barrier to pay since before they ended): its fee was not taken",
            fix="send the car to another exit, or open this one by hand",
            code="exit_refused",
            data={"state": ev.reason, "hours": hours},
        )
    raise ParkingError(
        f"the exit refuses {car} ({ev.reason}): its fee was not taken",
        fix="reopen a closed lane, or deal with the block, then take the fee",
        code="exit_refused",
        data={"state": ev.reason},
    )


def quote_json(account: Owed, plate: str | None, at: datetime, tz: tzinfo) -> dict[str, Any]:
    """A quote's times in the site's time, as the rest of the API gives them (the store's are UTC)."""
    q, stay = account.quote, account.stay
    charge = q.charge
    # Billed by time because its monthly period ran out (the driver's display says 月租到期): its
    # last day, for the guard's pay dialog to say so (live.js).
    ended = month_ran_out(stay.billing, stay.monthly_until, at) if stay is not None else None
    return {
        "plate": plate,
        "at": at.astimezone(tz).isoformat(),
        "stay_id": stay.id if stay else None,
        "entered_at": stay.entered_at.astimezone(tz).isoformat() if stay else None,
        "billing": stay.billing if stay else None,
        "validated": stay.validated if stay else False,
        "fee_fen": charge.amount_fen if charge else 0,
        "carried_fen": q.carried_fen,
        "paid_fen": q.paid_fen,
        "due_fen": q.due_fen,
        "due_text": f"{yuan(q.due_fen)}元",
        "tariff_version": charge.tariff_version if charge else None,
        "charged_until": charge.ended_at.astimezone(tz).isoformat() if charge else None,
        "monthly_ended": last_day(ended, tz).isoformat() if ended is not None else None,
    }


def version_paid(account: Owed) -> str | None:
    """The tariff version a fee taken names (its receipt prints it): the one the stay is charged
    under, none for a fee of only a charge carried from a missed exit (the stay's own fee is
    nothing yet, or was paid ahead): no price of that version is in it. What was paid went to the
    carried charges first (payments.carried_fen), so only the rest paid the stay's own fee."""
    quote = account.quote
    own_paid = max(0, quote.paid_fen - quote.carried_fen)
    charge = quote.charge
    return charge.tariff_version if charge is not None and charge.amount_fen > own_paid else None


def no_stay(stay_id: int) -> ParkingError:
    return ParkingError(
        f"there is no stay {stay_id}",
        fix="pick a stay from the open stays list (GET /api/parking/stays)",
        status=404,
        code="not_found",
    )


def typed_plate(value: str, conn: sqlite3.Connection | None = None) -> str:
    """A plate as a guard typed it (any case, spaces), as the store keeps it; 422 if it is none. The
    ticket of a car with no plate stands for its plate (core/tickets.py): its fee is quoted, taken
    and its stay found by it, also typed as its number alone, as read off the paper (0303-07).
    Read on `conn` (the booth's quote and prepay, the search of the stays), what stands for a car
    with no plate is never told to type the plate it does not have: a ticket typed wrong (0303-1,
    无牌-0303) is 404 `unknown_ticket`, and 无牌车 422 `ticket_needed`, as at an exit, the fix naming
    the tickets inside."""
    ticket = as_ticket_or_number(value)
    if ticket is not None:
        return ticket
    if conn is not None and (meant_as_ticket(value) or meant_as_number(value)):
        raise no_such_ticket(conn, value)
    if conn is not None and says_no_plate(value):
        raise ParkingError(
            "a car with no plate pays on the ticket it was given at the entrance",
            fix=tickets_named(conn, "type its ticket number"),
            status=422,
            code="ticket_needed",
            data=tickets_data(conn),
        )
    try:
        return canonical("plate", value)
    except BadCredential as exc:
        raise ParkingError(
            str(exc), fix="type the plate as it is written, e.g. 皖A12345", status=422, code="invalid_plate"
        ) from exc


def plate_or_holder(plate: str, pass_id: int | None, resident_id: int | None) -> str:
    """The plate of the car a fee is taken for (422 if it is none), or "" for a car named by its
    pass or its resident: one of the three, as the lane's quote names the car."""
    given = [f"a plate ({plate})"] if plate else []
    given += [f"a pass ({pass_id})"] if pass_id is not None else []
    given += [f"a resident ({resident_id})"] if resident_id is not None else []
    if len(given) > 1:
        raise ParkingError(
            f"{' and '.join(given)} were given",
            fix="send the lane's quote as it is: its plate, its pass id or its resident id, alone",
            status=422,
            code="invalid_plate",
        )
    return "" if given and not plate else typed_plate(plate)


def named_car(holder_kind: str | None, holder_id: int | None) -> str:
    """A car that no plate names, in a guard's message: by its pass or its resident, never by its QR
    or card (either opens the gate to whoever holds it)."""
    if holder_kind == "resident":
        return f"the car on resident {holder_id}'s card"
    return f"the car on pass {holder_id}"


def check_method(method: str) -> None:
    if method not in METHODS:
        raise ParkingError(
            f"unknown payment method {method!r}",
            fix=f"use one of {list(METHODS)}",
            status=422,
            code="bad_method",
        )


def check_account(conn: sqlite3.Connection, method: str, subject: str, car: str) -> None:
    """A fee put on a monthly account (method `monthly`) is refused, 422 `no_monthly_account`, for
    a car with none (METHODS): taken, it let a stranger out and booked 9元 nobody collected, a
    payment whose method no correction can change (review 63m). The fix names the methods it can
    pay with, in its data too."""
    if method != "monthly":
        return
    kind, _, number = subject.partition(":")
    if kind == "vehicle" and conn.execute(_MONTHLY_ACCOUNT, (number,)).fetchone():
        return
    raise ParkingError(
        f"{car} has no monthly account to put its fee on: only a registered car with a monthly "
        "period pays by the monthly method",
        fix=f"take the fee in cash or by QR code (method {' or '.join(TAKEN_AT_THE_GATE)})",
        status=422,
        code="no_monthly_account",
        data={"methods": list(TAKEN_AT_THE_GATE)},
        fields=["method"],
    )


def check_amount(account: Owed, amount_fen: int) -> None:
    due = account.quote.due_fen
    if due == 0:
        raise ParkingError("nothing is owed", fix="the car may leave: open the barrier", code="nothing_owed")
    if amount_fen != due:
        raise ParkingError(
            f"the fee is {yuan(due)}元 ({due} fen), not {yuan(amount_fen)}元",
            fix="take the fee shown and confirm that amount",
            code="fee_changed",
        )
