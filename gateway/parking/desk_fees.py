"""Fees a guard takes: at an exit lane for the car held there, and ahead at the booth (with what a
car not inside owes from before); what a car owes, asked at the booth."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from gateway.core import TYPED_BY, LaneRules, Presented
from gateway.parking.book import Rules
from gateway.parking.desk_base import DeskBase
from gateway.parking.desk_checks import (
    check_account,
    check_amount,
    check_method,
    fee_until,
    let_out_already,
    named_car,
    paid_up_to,
    paid_while_held,
    plate_or_holder,
    prepaid_already,
    quote_json,
    settled_at,
    typed_plate,
    version_paid,
)
from gateway.store.holds import HeldOn, car_of, held_at_lane, held_on_holder, pass_car
from gateway.store.parking import Owed, ParkingError, keep_what_was_paid, owed
from gateway.store.payments import check_receipt, record_payment
from gateway.timefmt import later

_BOOTH = LaneRules("booth", "exit", "vehicle", None)


@dataclass(slots=True)
class FeeTaken:
    """A fee taken at an exit lane (ParkingDesk.pay_at_lane). Called in the exit decision's
    transaction (Gateway.decide_after), it records the payment and names the car to let out; then
    it holds what the guard hands the driver: the receipt number (the one typed, or made by the
    gateway) and the tariff version charged, which the receipt names."""

    prepare: Callable[[sqlite3.Connection], Presented]
    receipt: str = ""
    tariff_version: str | None = None

    def __call__(self, conn: sqlite3.Connection) -> Presented:
        return self.prepare(conn)


class FeeDesk(DeskBase):
    # ---- guard actions: each returns what Gateway.decide_after() runs in one transaction ----------

    def pay_at_lane(
        self,
        lane_id: str,
        plate: str,
        amount_fen: int,
        method: str,
        receipt: str,
        actor: str,
        at: datetime,
        pass_id: int | None = None,
        resident_id: int | None = None,
    ) -> FeeTaken:
        """The guard took the fee for the car at an exit lane: record it, then the car's exit opens.
        The car is named by its plate or, as the lane's quote names one that no plate names, by the
        pass without a plate it was let in on (`pass_id`), or by the resident whose card that names
        no car it was held on (`resident_id`)."""
        lane = self._exit_lane(lane_id)
        plate = plate_or_holder(plate, pass_id, resident_id)
        check_method(method)

        def prepare(conn: sqlite3.Connection) -> Presented:
            on = self._held_on(conn, lane.id, at, pass_id, resident_id)
            check_receipt(conn, receipt, on.subject if on else plate, amount_fen, self.site.tz)
            # A pass's car whose stay carries the plate the camera read is held on that plate.
            held = held_at_lane(conn, lane.id, at, on.car if on else plate, self.site.lanes)
            if held is not None and held.let_out_at is not None:
                car = named_car(on.holder_kind, on.holder_id) if on else plate
                let_out_already(conn, held, car, self.site.tz)
            if held is None and on is None:
                self._not_corrected(conn, lane.id, plate, at)
            held_as = held.vehicle_class if held else None
            # Decided as the car was held: on its pass's QR (or the resident's card), the car let in
            # on it leaves.
            kind: Literal["plate", "qr", "card"] = on.kind if on else "plate"
            value = on.value if on else plate
            p = Presented(lane.id, kind, value, 1.0, at, f"{TYPED_BY}{actor}", vehicle_class=held_as)
            subject, vclass, unregistered = self._who(conn, p, lane)
            until = fee_until(held, at)
            rules = self._rules(conn, at)
            account = owed(conn, rules, subject, until, vehicle_class=vclass, unregistered=unregistered)
            paid_while_held(conn, held, account, self.site.tz)
            # After the fee's being paid is told (let_out_already, paid_while_held): paid on the
            # account at the booth, the car struck off since, it is already_paid, not "take cash".
            check_account(conn, method, subject, named_car(on.holder_kind, on.holder_id) if on else plate)
            check_amount(account, amount_fen)
            stay = account.stay
            taken.tariff_version = version_paid(account)
            taken.receipt = record_payment(
                conn,
                subject=subject,
                plate=None if on else plate,
                stay_id=stay.id if stay else None,
                lane=lane.id,
                at=at,
                fee_until=paid_up_to(account, until),
                amount_fen=amount_fen,
                method=method,
                receipt=receipt,
                actor=actor,
                tz=self.site.tz,
                pass_id=pass_id,
                grace=self.rules.grace,
            )
            return p

        taken = FeeTaken(prepare)  # filled in as it runs: prepare() is called after this line
        return taken

    def prepay(
        self,
        conn: sqlite3.Connection,
        plate: str,
        amount_fen: int,
        method: str,
        receipt: str,
        actor: str,
        at: datetime,
    ) -> dict[str, Any]:
        """Paying ahead at the booth: the car then has the grace period to leave. A car not
        inside that owes charges carried from before (one let out by hand unpaid) pays them off
        (_debt_paid)."""
        plate = typed_plate(plate, conn)
        check_method(method)
        p = Presented(_BOOTH.id, "plate", plate, 1.0, at, f"{TYPED_BY}{actor}")
        subject, vclass, unregistered = self._who(conn, p, _BOOTH)
        check_receipt(conn, receipt, plate, amount_fen, self.site.tz)
        until = self._booth_fee_until(conn, plate, at)
        rules = self._rules(conn, at)
        # As the quote asks it (unregistered: a stranger's missed entry), so the two agree.
        account = owed(conn, rules, subject, until, vehicle_class=vclass, unregistered=unregistered)
        # Sent again after its answer was lost, also once the car has left on it: before anything
        # that asks for a car inside.
        prepaid_already(conn, account, plate, amount_fen, at, rules.grace, self.site.tz)
        # After the two above: a payment put on the account, its answer lost, sent again once the
        # car is struck off (or its period cleared) is answered already_paid, not told to pay again.
        check_account(conn, method, subject, plate)
        if account.stay is None:
            return self._debt_paid(conn, rules, account, plate, amount_fen, (method, receipt, actor), at)
        check_amount(account, amount_fen)
        receipt = record_payment(
            conn,
            subject=subject,
            plate=plate,
            stay_id=account.stay.id,
            lane="booth",
            at=at,
            fee_until=paid_up_to(account, until),
            amount_fen=amount_fen,
            method=method,
            receipt=receipt,
            actor=actor,
            tz=self.site.tz,
            grace=self.rules.grace,
        )
        leave_by = later(at, rules.grace)
        return {
            "plate": plate,
            "amount_fen": amount_fen,
            "receipt": receipt,
            "tariff_version": version_paid(account),
            "leave_by": leave_by.isoformat(),
        }

    def _debt_paid(
        self,
        conn: sqlite3.Connection,
        rules: Rules,
        account: Owed,
        plate: str,
        amount_fen: int,
        how: tuple[str, str, str],
        at: datetime,
    ) -> dict[str, Any]:
        """The booth takes what a car not recorded inside owes from before: the charges carried on
        its plate or ticket (a car let out by hand unpaid, policy.reentry = "charge"), settled now
        as an exit settles them, and sent upstream so, with the payment linked to the oldest. A
        car with no plate never comes in again on its ticket, so the exit never takes them: asked
        by the quote and refused here, they stood unpaid for ever, and the cash matched nothing. A
        stranger's plate whose quote asks a day's fee for a missed entry pays at the exit, where
        that fee is charged."""
        if account.quote.charge is not None:
            raise ParkingError(
                f"{plate} is not recorded inside", fix="take the fee at the exit lane when the car leaves"
            )
        if not account.carried_ids:
            raise ParkingError(
                f"{plate} is not recorded inside and owes nothing",
                fix="take nothing; a car pays ahead here while it is inside (find it on 车位)",
            )
        check_amount(account, amount_fen)
        method, receipt, actor = how
        receipt = record_payment(
            conn,
            subject=account.subject,
            plate=plate,
            stay_id=None,
            lane="booth",
            at=at,
            fee_until=at,
            amount_fen=amount_fen,
            method=method,
            receipt=receipt,
            actor=actor,
            tz=self.site.tz,
            grace=self.rules.grace,
        )
        # Read again with the payment just taken: it pays the charges carried, oldest first.
        paid = owed(conn, rules, account.subject, at, vehicle_class=account.vehicle_class)
        keep_what_was_paid(conn, rules, paid, None, at)
        settled = [c for c in paid.carried_ids if settled_at(conn, c, at)]
        return {
            "plate": plate,
            "amount_fen": amount_fen,
            "receipt": receipt,
            "tariff_version": None,  # no price of a tariff is in it: charges carried only
            "leave_by": None,  # no car inside to leave
            "charges_settled": settled,
        }

    def quote(self, conn: sqlite3.Connection, plate: str, at: datetime) -> dict[str, Any]:
        """What a car owes now, or held at an exit, its hold's fee (read-only: runs on any connection)."""
        plate = typed_plate(plate, conn)
        p = Presented(_BOOTH.id, "plate", plate, 1.0, at, "quote")
        subject, vclass, unregistered = self._who(conn, p, _BOOTH)
        until = self._booth_fee_until(conn, plate, at)
        rules = self._rules(conn, at)
        account = owed(conn, rules, subject, until, vehicle_class=vclass, unregistered=unregistered)
        return quote_json(account, plate, at, self.site.tz)

    def _booth_fee_until(self, conn: sqlite3.Connection, plate: str, at: datetime) -> datetime:
        """Where the fee of a car paying at the booth ends: a car standing held at an exit's barrier
        pays its hold's fee, the one the lane display showed, which the exit charges when the camera
        lets it out on that hold (a fee to `at`, a period later, would stand against nothing)."""
        holds = [held_at_lane(conn, lane, at, plate, self.site.lanes) for lane in self._exits()]
        standing = [h for h in holds if h is not None and h.let_out_at is None]
        return fee_until(max(standing, key=lambda h: h.at, default=None), at).astimezone(self.site.tz)

    def _held_on(
        self,
        conn: sqlite3.Connection,
        lane: str,
        at: datetime,
        pass_id: int | None,
        resident_id: int | None,
    ) -> HeldOn | None:
        """The car a guard takes the fee for by its pass or its resident (pay_at_lane), None for one
        named by its plate; 404 if the lane holds no such car."""
        if pass_id is not None:
            on = pass_car(conn, lane, at, pass_id, self.site.lanes)
            named = f"pass {pass_id}"
        elif resident_id is not None:
            on = held_on_holder(conn, lane, at, "card", resident_id, self.site.lanes)
            named = f"a card of resident {resident_id}"
        else:
            return None
        if on is None:
            raise ParkingError(
                f"no car is held at {lane} on {named}",
                fix="take the fee for the car the lane's quote names: by its plate if the quote "
                "gives one, else by the pass or resident it names",
                status=404,
                code="not_found",
            )
        return on

    def _not_corrected(self, conn: sqlite3.Connection, lane: str, plate: str, at: datetime) -> None:
        """A fee for `plate` at the exit `lane`, whose hold there a guard corrected to another plate
        (a misread: docs/parking.md, Misread plates), is refused, naming the car held there now:
        the hold is the corrected car's from the correction on. Taken as a car presenting now, it
        charged the misread plate a day's fee with no entry record, let "it" out, and left the real
        car's stay open (a quote opened on another tablet before the correction)."""
        held_now = car_of(conn, "plate", plate, None, None, None, lane=lane, at=at)
        if held_now is not None and held_now != plate:
            raise ParkingError(
                f"the car held at {lane} as {plate} was corrected to {held_now}: its fee was not taken",
                fix=f"take the fee for {held_now}: ask the lane's quote again",
                code="plate_corrected",
            )
