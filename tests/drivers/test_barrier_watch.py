"""Forced-open detection on its own: time is a parameter, so every case is exact."""

from __future__ import annotations

from gateway.runtime.lanes import BarrierWatch


def test_opening_without_a_command_is_forced_and_its_closing_clears_it() -> None:
    watch = BarrierWatch({"car-in": 5.0})
    assert watch.opened("car-in", 100.0)
    assert watch.closed("car-in")
    assert not watch.closed("car-in")  # cleared once


def test_opening_within_the_grace_after_a_decision_is_expected() -> None:
    watch = BarrierWatch({"car-in": 5.0})
    watch.commanded("car-in", 100.0)
    assert not watch.opened("car-in", 104.9)
    assert not watch.closed("car-in")
    assert watch.opened("car-in", 105.1)  # the next opening, too late for that decision


def test_each_lane_has_its_own_window_and_a_guard_hold_covers_any_time() -> None:
    watch = BarrierWatch({"car-in": 5.0}, default_s=10.0)
    watch.commanded("car-out", 0.0)
    assert not watch.opened("car-out", 9.0)  # the default window
    watch.held("car-in", True, 0.0)
    assert not watch.opened("car-in", 3600.0)
    watch.held("car-in", False, 3600.0)
    assert watch.opened("car-in", 3700.0)
