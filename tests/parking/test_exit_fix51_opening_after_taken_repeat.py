"""Review 52a of a36238f: a car with no entry record paid its day's fee at an exit whose barrier did
not open (道闸故障); the relay is mended and the camera's next look lets it out, the relay taking that
pulse: the arm rises and it drives out. The car behind it, held to pay, then pulls up. And the
repeats that joined a passage before a Modbus module answered, none of its pulses taken: each is
kept put back with the exit (the guard's opening finds the car, a paid car is not taken for gone)."""

from __future__ import annotations

import threading
from datetime import timedelta

from tests.parking.conftest import T0
from tests.parking.test_exit_fix49_barrier_not_opened import RelayWrittenLater
from tests.parking.test_exit_fix49_barrier_not_opened_after import (  # noqa: F401
    Exit,
    Served,
    exit_lane,
)
from tests.parking.test_no_entry_fix50_paid_at_a_dead_barrier import _paid_day_fee_at_a_dead_barrier

PLATE = "苏E12345"  # paid 30元 at the dead barrier
OTHER = "苏E54321"  # the car behind it, no entry record either, held to pay 30元
S = timedelta(seconds=1)
M = timedelta(minutes=1)


def test_the_guards_opening_after_the_paid_car_drove_out_on_its_repeat_is_for_the_car_behind(
    exit_lane: Served,  # noqa: F811
) -> None:
    """09:01 the car pays at the dead barrier; the relay is mended; 09:01:05 the camera reads the car
    behind (held, 30元); 09:01:15 the camera reads the paid car again and the relay takes the pulse:
    it drives out. At 09:01:20 the guard presses 开闸 for the car now at the barrier. The opening is
    booked to the paid car, gone already (its repeat is read as put back although its pulse was
    taken), and the car behind stays 'held' on the quote. It should let out the car behind."""
    with exit_lane(exit_without_entry="charge") as lane:
        paid_at = _paid_day_fee_at_a_dead_barrier(lane)
        lane.plug_back()
        behind = lane.look("car-out", OTHER, paid_at + 5 * S)
        assert (behind.reason, behind.fee_fen) == ("payment_due", 3000)
        out = lane.look("car-out", PLATE, paid_at + 15 * S)
        assert out.admitted and "again" in out.flags, (out.reason, out.flags)
        pulses_taken = lane.relay.health.online
        lane.open_by_hand(paid_at + 20 * S)
        let_out = [v for (v,) in lane.rows(
            "SELECT a.value FROM let_outs_by_hand o JOIN access_log a ON a.event_id = o.held_event"
        )]
        quote = lane.client.get("/api/parking/lanes/car-out/quote", headers=lane.auth)
    assert pulses_taken
    shown = quote.json().get("plate") if quote.status_code == 200 else None
    assert let_out == [OTHER], (
        f"the guard's 开闸 at 09:01:20 let out {let_out}: {PLATE} had driven out at 09:01:15 on a pulse "
        f"the relay took; the quote still names {shown} as held"
    )


def _written_later(lane: Exit) -> RelayWrittenLater:
    """The exit's relay a Modbus module: it answers each pulse later, on its bus's thread."""
    relay = RelayWrittenLater(lane.relay)
    lane.gw.devices.lanes["car-out"].relays[0] = relay
    return relay


def _none_taken(lane: Exit, relay: RelayWrittenLater) -> None:
    """The module answers every pulse so far: not taken (its board unplugged); then it is mended,
    the lane's own relay back, and the worker has judged the passage."""
    for outcome in relay.outcomes:
        bus = threading.Thread(target=outcome.set_result, args=(False,))
        bus.start()
        bus.join()
    lane.gw.devices.lanes["car-out"].relays[0] = lane.relay
    lane.plug_back()
    lane.rows("SELECT 1")  # after the worker's put-back


def test_the_guards_opening_finds_the_car_whose_repeat_joined_the_passage_put_back(
    exit_lane: Served,  # noqa: F811
) -> None:
    """In at 09:00, let out at 09:20 on a Modbus relay; the camera reads it again a second later,
    before the module answers (flag again: one passage). Neither pulse taken: its stay is put back.
    The board mended, the guard's 开闸 at 09:20:10 is for that car, the car's last decision there
    the repeat: its stay closes by hand on the opening."""
    with exit_lane() as lane:
        relay = _written_later(lane)
        assert lane.look("car-in", PLATE, T0).admitted
        assert lane.look("car-out", PLATE, T0 + 20 * M).admitted
        again = lane.look("car-out", PLATE, T0 + 20 * M + S, again=True)
        assert again.admitted and again.flags == ("again",), again.flags
        _none_taken(lane, relay)
        assert lane.open_stays() == 1
        lane.open_by_hand(T0 + 20 * M + 10 * S)
        put_back = lane.rows("SELECT count(*) FROM exits_put_back WHERE stay_id IS NOT NULL")[0][0]
        let_out = [v for (v,) in lane.rows(
            "SELECT a.value FROM let_outs_by_hand o JOIN access_log a ON a.event_id = o.held_event"
        )]
        still_open = lane.open_stays()
    assert put_back == 2, f"{put_back} of the passage's 2 decisions kept put back"
    assert let_out == [PLATE] and still_open == 0, (let_out, still_open)


def test_a_paid_car_whose_repeat_joined_the_passage_is_not_asked_the_fee_again(
    exit_lane: Served,  # noqa: F811
) -> None:
    """The car pays 30元 at 09:01 on a Modbus relay; the camera reads it again a second later, before
    the module answers (let out again on what it paid). Neither pulse taken: it is still at the shut
    arm. The board mended, it is read at 09:26, beyond its grace: let out free, not asked 30元 again
    (the repeat read as an exit whose barrier opened, the car had left)."""
    with exit_lane(exit_without_entry="charge") as lane:
        relay = _written_later(lane)
        paid_at = _paid_day_fee_at_a_dead_barrier(lane)
        again = lane.look("car-out", PLATE, paid_at + S, again=True)
        assert again.admitted and "again" in again.flags, (again.reason, again.flags)
        _none_taken(lane, relay)
        out = lane.look("car-out", PLATE, paid_at + 25 * M)
    assert out.admitted and out.fee_fen == 0, f"{out.reason}: asked {out.fee_fen / 100:.0f}元 again"
