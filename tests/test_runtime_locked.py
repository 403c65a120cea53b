"""Another process holds the database locked past the busy timeout (README: a `gateway import`
suspended with Ctrl-Z): a card then is decided `storage_failed`, like one on a full disk. The gate
stays shut, the guard's panel is told (未能记录…, so someone opens by hand), and health counts it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.sync.health import health_report
from tests.conftest import locked_by_another_process
from tests.test_runtime import make_gateway, relay, show


@pytest.fixture
def gw(tmp_path: Path) -> Gateway:
    gw = make_gateway(tmp_path)
    gw.conn.execute("PRAGMA busy_timeout=300")  # the 10 s of a real box, shortened for the test
    return gw


@pytest.fixture
def locked(gw: Gateway) -> Iterator[Callable[[], None]]:
    """The database held locked by another process; call the fixture's value to let go."""
    with locked_by_another_process(gw.db_path) as let_go:
        yield let_go


def test_a_card_decided_while_another_process_holds_the_database_is_told_as_storage_failed(
    gw: Gateway, locked: Callable[[], None]
) -> None:
    told: list[AccessEvent] = []
    gw.subscribe(told.append)  # what the guard's live page is sent
    ev = show(gw, "door", "card", "AAAA0001")
    assert [e.reason for e in told] == ["storage_failed"], "the guard is not told someone is at the door"
    assert not ev.admitted and relay(gw, "door").pulses == []
    assert ev.holder_name == "张*"  # whose card it is still shows, for the guard who opens by hand
    assert gw.storage_failures == 1
    assert health_report(gw, {}, 0, "test", gw.now())["storage_failures"] == 1
    locked()  # the import goes on (fg) and ends
    assert show(gw, "door", "card", "AAAA0001").admitted


def test_a_guards_decision_while_another_process_holds_the_database_is_refused_as_not_stored(
    gw: Gateway, locked: Callable[[], None]
) -> None:
    """A fee taken at the lane and its opening are one transaction (decide_now): the API answers 503
    storage_failed for the database's own error (api/errors.py), and nothing is left half begun."""
    at = gw.now()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        gw.decide_now(lambda conn: Presented("door", "card", "AAAA0001", 1.0, at, "guard:test"))
    assert relay(gw, "door").pulses == [] and not gw.conn.in_transaction
    locked()
    assert show(gw, "door", "card", "AAAA0001").admitted
