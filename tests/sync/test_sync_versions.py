"""The version rules as a pure state machine: time is a parameter, nothing waits."""

from __future__ import annotations

from gateway.sync.versions import Apply, Ignore, Request, Versions


def fresh(applied: int = 1) -> Versions:
    return Versions(applied=applied, gap_wait=30.0, resync_interval=300.0)


def test_in_order_deltas_apply_at_once() -> None:
    v = fresh()
    assert v.delta(2, 1, now=0) == [Apply(2, 1)]
    assert v.applied_to(2, now=0) == []
    assert v.delta(3, 2, now=0) == [Apply(3, 2)]


def test_an_early_delta_waits_for_the_one_before_it() -> None:
    v = fresh()
    assert v.delta(3, 2, now=0) == []
    assert v.delta(2, 1, now=1) == [Apply(2, 1)]
    assert v.applied_to(2, now=1) == [Apply(3, 2)]
    assert v.applied_to(3, now=1) == []
    assert v.tick(now=1000) == []


def test_a_gap_asks_for_a_snapshot_once_the_wait_is_over() -> None:
    v = fresh()
    assert v.delta(4, 3, now=10) == []
    assert v.tick(now=39.9) == []
    (request,) = v.tick(now=40)
    assert isinstance(request, Request) and "gap: at 1" in request.reason
    assert v.tick(now=41) == []  # not again at once
    assert isinstance(v.tick(now=40 + 300)[0], Request)  # but again after the resync interval
    assert v.snapshot_done(5, now=400) == []  # the held delta 4 is older: dropped
    assert v.need_snapshot is False and v.held == {}


def test_a_snapshot_lets_the_deltas_based_on_it_follow() -> None:
    v = fresh()
    v.delta(8, 7, now=0)
    v.busy = True
    assert v.delta(7, 6, now=0) == []  # no apply while a snapshot is applied
    assert v.tick(now=1000) == []  # and no gap timer either
    assert v.snapshot_done(6, now=1000) == [Apply(7, 6)]
    assert v.applied_to(7, now=1000) == [Apply(8, 7)]


def test_old_and_overlapping_deltas() -> None:
    v = fresh(applied=5)
    assert isinstance(v.delta(5, 4, now=0)[0], Ignore)
    assert isinstance(v.delta(7, 3, now=0)[0], Request)  # based below what is applied


def test_a_rejected_delta_asks_at_once_but_not_twice_in_a_row() -> None:
    v = fresh()
    assert v.rejected("delta", 2, now=0) == [Request("delta 2 was rejected")]
    assert v.rejected("snapshot", 3, now=1) == []
    assert v.rejected("snapshot", 4, now=10) == [Request("snapshot 4 was rejected")]
    assert isinstance(v.resync("requested by command", now=2)[0], Request)  # forced


def test_a_snapshot_given_up_for_want_of_memory_is_asked_for_after_the_resync_interval() -> None:
    v = fresh()
    assert v.not_staged(now=100) == []  # not at once: a box short of memory is not sent another
    assert v.need_snapshot
    assert v.tick(now=399) == []
    assert v.tick(now=400) == [Request("still waiting for a snapshot")]


def test_a_snapshot_given_up_before_a_restart_is_asked_for_when_its_interval_is_over() -> None:
    v = fresh()
    v.not_staged(now=5, ago=100)  # given up 100 s before the start (the record's wall clock)
    assert v.need_snapshot and v.tick(now=204) == []
    assert v.tick(now=205) == [Request("still waiting for a snapshot")]
    long_ago, set_back = fresh(), fresh()
    long_ago.not_staged(now=5, ago=10_000)
    assert long_ago.tick(now=5) == [Request("still waiting for a snapshot")]
    set_back.not_staged(now=5, ago=-50)  # a clock set back: as if just now, never longer
    assert set_back.tick(now=304) == [] and set_back.tick(now=305) != []
