"""ArmRise on its own (Review 57e): a pulse the relay took counts as taken only once the lane's
barrier contact opens within rise_within_s; the guard is told once per decision that it did not."""

from __future__ import annotations

from concurrent.futures import Future

from gateway.runtime.arm_rise import ArmRise


def _outcome(took: bool | None) -> Future[bool]:
    f: Future[bool] = Future()
    if took is not None:
        f.set_result(took)
    return f


def _watch() -> tuple[ArmRise, list[str]]:
    told: list[str] = []
    return ArmRise({"car-out": 0.2}, told.append), told


def test_a_pulse_taken_is_taken_once_the_arm_rose() -> None:
    rise, told = _watch()
    [chained] = rise.expect("car-out", [_outcome(True)])
    assert not chained.done()
    rise.rose("car-out")
    assert chained.result(30) is True and told == []


def test_a_pulse_taken_with_no_rise_is_not_taken_and_told_once_for_all_the_lanes_relays() -> None:
    rise, told = _watch()
    chained = rise.expect("car-out", [_outcome(True), _outcome(True)])
    assert [c.result(30) for c in chained] == [False, False]
    assert told == ["car-out"]
    rise.rose("car-out")  # later: nothing waits any more


def test_a_pulse_not_taken_is_the_relays_fault_not_the_barriers() -> None:
    rise, told = _watch()
    [chained] = rise.expect("car-out", [_outcome(False)])
    assert chained.result(30) is False
    rise.stop()
    assert told == []


def test_a_relay_answering_after_the_arm_rose_is_taken() -> None:
    """A Modbus module's answer comes on its bus's thread, after the arm may have moved."""
    rise, told = _watch()
    outcome = _outcome(None)
    [chained] = rise.expect("car-out", [outcome])
    rise.rose("car-out")
    outcome.set_result(True)
    assert chained.result(30) is True and told == []
