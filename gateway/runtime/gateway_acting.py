"""What the Gateway (gateway/runtime/gateway.py) does once a decision is on record: the relays
pulsed, the lane's display and voice told (a fault if its barrier stays down), the plate readers
told of a plate a guard typed, the decision logged and its listeners called.

Apart from gateway_deciding.py: acting comes after the commit, and never for a decision not stored.
"""

from __future__ import annotations

import logging
import sqlite3
import time

from gateway.core import BUTTON, TYPED_BY, Reason
from gateway.core.model import AGAIN, NEIGHBOUR_LANE, PASS_HOLDERS, REFUSED_AGAIN
from gateway.events import AccessEvent
from gateway.parking.book import MONTH_LAPSES, month_ran_out
from gateway.privacy import mask_card
from gateway.runtime.gateway_base import GatewayBase
from gateway.runtime.lane_boards import JoinedByHand, Pulsed, pulse, tell_opening
from gateway.runtime.texts import closed_lines, display_lines, fault_lines, idle_lines, let_through_lines
from gateway.store.parking import open_stay

log = logging.getLogger("gateway.runtime.gateway")  # its journal lines stay gateway.py's


class ActingOnDecisions(GatewayBase):
    def _after(self, ev: AccessEvent, received: float) -> None:
        self.decisions += 1
        self._act(ev)
        self.latencies_ms.append((time.perf_counter() - received) * 1000)
        log.info(
            "decision lane=%s kind=%s value=%s admitted=%s reason=%s flags=%s",
            ev.lane,
            ev.kind,
            ev.value if ev.kind in ("plate", BUTTON) else mask_card(ev.value),
            ev.admitted,
            ev.reason,
            ",".join(ev.flags) or "-",
        )
        for listener in self._listeners:
            try:
                listener(ev)
            except Exception:
                log.exception("event listener failed")

    def _monthly_ended(self, ev: AccessEvent) -> bool:
        """A car held at an exit to pay whose monthly period has run out by now, billed by time for
        it: its driver is told why he pays, 月租到期 (texts.display_lines). By its stay's period, as
        the guard's panel (api/views.py monthly_ended), his pay dialog (desk_checks.quote_json) and
        a release's words (hand_lane_displays) read it: the register's now, else the end the stay
        kept (a monthly car struck off while parked; a lapsed car that came in as a temporary car,
        flag monthly_expired on its entry, none on its exit, whose renewal while parked an import's
        empty cell or the centre took back). Read from the register alone, such a car was asked
        请缴费 as an owner's car while the guard's tablet said 月租已于 … 到期 (Review 60a). A
        temporary car only if registered (the panel's _may_have_lapsed). Not a monthly car paid up
        that owes only a charge carried from before, nor a car on its own slot, which a lapsed month
        costs nothing: told 月租到期, its driver renewed what needs no renewal."""
        if ev.reason != "payment_due" or ev.billing not in MONTH_LAPSES:
            return False
        if ev.billing != "monthly" and ev.vehicle_id is None:
            return False
        try:
            stay = open_stay(self.conn, ev.subject)
        except sqlite3.Error:  # the words only: the fee is asked all the same
            return False
        until = stay.monthly_until if stay is not None else None
        return month_ran_out(ev.billing, until, ev.at) is not None

    def _car_of_pass_shown(self, ev: AccessEvent) -> str | None:
        """The plate of the car a pass's QR was shown for at a car lane, a moment after the plate
        was read (a repeat of the plate's passage, flag again: its stay moved onto the pass,
        store/record.py car_of_pass), for its words (texts.display_lines) and as the car they were
        told to (LaneBoards.show); so too the plate's own repeat on the pass since (the camera
        deciding the car still at the barrier, subject the pass): told 临时车 请入场 again, the
        visitor just welcomed was taken for a stranger's car (Review N). None for any other
        decision, or where the pass has no open stay with a plate."""
        if not ev.admitted or AGAIN not in ev.flags or ev.lane_type != "vehicle":
            return None
        if ev.holder_kind not in PASS_HOLDERS:
            return None
        if ev.kind == "plate":
            return ev.plate
        if ev.kind != "qr" or ev.plate:
            return None
        try:
            stay = open_stay(self.conn, ev.subject)
        except sqlite3.Error:  # the words only: the car is let in all the same
            return None
        return stay.plate if stay is not None else None

    def _act(self, ev: AccessEvent) -> None:
        if NEIGHBOUR_LANE in ev.flags:
            # The car at the lane beside this one (Gateway._neighbours_car): its own lane shows and
            # opens for it. Not named for a tailgate here either: it never stood at this barrier.
            return
        devices = self.devices.lanes[ev.lane]
        if ev.kind == "plate" and ev.device.startswith(TYPED_BY):
            # The guard typed it (the camera could not read it, or a fee was taken): the lane's
            # cameras must not decide the same car again when they read it a moment later.
            for reader in devices.plate_readers:
                reader.hold(ev.value)
        lane, language = self.site.lanes[ev.lane], self.site.config.site.language
        # As recorded: a door's exit button lets someone out (一路平安) at an entrance door too.
        way = ev.direction or lane.direction
        pass_car = self._car_of_pass_shown(ev)
        lines = display_lines(ev, language, way, monthly_ended=self._monthly_ended(ev), pass_car=pass_car)
        held = (
            not ev.admitted
            and ev.reason != Reason.PAYMENT_DUE
            and ev.lane in self.by_hand.held
            and not self.by_hand.car_under_arm(ev.lane)
        )
        if held:
            # A refusal at a lane held open (常开) keeps the hold's 请通行 (一路平安): a card refused
            # there turned the board to 禁止入内 at a door still wide open, for everyone after. It
            # is recorded and on the guard's panel (Review 60u). A car held to pay is still asked:
            # a hold lets no car out on record, and the guard releases the lane so that it pays.
            # Not once released: its arm up only for the car still under it, the lane decides
            # again, and a car it refuses is told so (review 61q).
            lines = let_through_lines(None, language, lane.direction)
        nothing_new = held or AGAIN in ev.flags or REFUSED_AGAIN in ev.flags  # voice not replayed
        if ev.admitted:  # before the pulse: the barrier's feedback may be quick
            self.lane_io.opening(ev.lane, ev.plate or ev.subject)
        else:
            self.lane_io.refused(ev.lane, ev.plate or "", ev.reason)
        # What the lane told this car is remembered (LaneBoards.show): a pass's QR for its car's plate,
        # as the camera's repeats of that car are. A repeat letting it in as before keeps its words
        # (一位多车, 月租到期: flags its decision does not carry, LaneBoards.words_again).
        car = ev.plate or pass_car or ev.subject
        if not held:
            verdict = (ev.admitted, ev.reason, ev.holder_kind)
            lines = self.boards.words_again(ev.lane, car, verdict, lines, AGAIN in ev.flags)
        if not (ev.admitted and devices.relays):
            self.boards.show(ev.lane, lines, nothing_new=nothing_new, car=car, going=ev.admitted)
            return
        pulses: list[Pulsed] = []
        for relay in devices.relays:
            try:
                # Every relay pulsed, whichever took it: a lane's second relay may open alone.
                pulses.append(pulse(relay, self._pulse_seconds[ev.lane], ev.event_id))
            except Exception as exc:
                relay.health.set_offline(f"pulse failed: {exc}")
        rose = [taken for taken, _ in self.lane_io.rising(ev.lane, pulses)]  # once the arm rose
        # A barrier that stays down (its relay board unplugged, or the arm never rose where that is
        # seen): greeted, the driver would sit at it being told to go. The display and the voice
        # send him to the guard instead, and the car, still inside, is put back on its stay.
        fault = fault_lines(ev.plate, language, lane.type)
        known = self._exit_pulses.pulses_known(ev, lane)  # at a vehicle exit, the car's passage judged
        tell_opening(
            self.boards, ev.lane, pulses, lines, fault, known, rose, nothing_new=nothing_new, car=car
        )

    def _idle_lines(self, lane: str) -> list[str] | None:
        """What the lane shows once the car let through has gone (LaneBoards.arm_down): its idle
        line; at a closed lane its closed line, as the close and the start show it (a guard's
        opening by hand there, an ambulance let in, left 请通行 over the lowered arm of a lane
        that refuses everyone: Review N); at a lane held open (常开) the hold's own 请通行 (一路平安),
        shown as the hold began (a car's greeting under the raised arm kept its stranger's plate
        and 临时车 请入场 for the rest of a rush's hold: Review 66 C2)."""
        rules, language = self.site.lanes[lane], self.site.config.site.language
        if lane in self.by_hand.held:
            return let_through_lines(None, language, rules.direction)
        if self.lane_modes.get(lane) == "closed":
            return closed_lines(language, rules.direction)
        return idle_lines(language, rules.type)

    def opened_by_hand(self, lane: str) -> JoinedByHand:
        """An opening or a hold by hand of `lane` about to drive its relays (HandLanes): the
        passages still judged there joined (ExitPulses.opened_by_hand)."""
        return self._exit_pulses.opened_by_hand(lane)
