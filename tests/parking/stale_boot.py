"""A Pi that boots on fake-hwclock's stale clock with no network, and a stranger who pays 5元 at
the booth on it: the start of each test of re-dating and the reports it makes stale."""

from __future__ import annotations

from datetime import timedelta

from gateway.parking.operations import Operations
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, show
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
STALE = T0 - 37 * H  # the Pi boots on Monday 09:00 saying Saturday 1 March 20:00


def booth_payment_on_a_stale_boot(gw: Gateway) -> tuple[Operations, Steady]:
    """A stranger comes in as the Pi boots and pays 5元 ahead at the booth 40 minutes later, all on
    the stale clock; the operations and their steady clock, to go on from there."""
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=STALE, steady=steady)
    o.tick(STALE)
    show(gw, "car-in", "苏E12345", STALE + 10 * S)
    steady.s = 40 * 60
    gw.parking.prepay(gw.conn, "苏E12345", 500, "cash", "", "booth", STALE + 40 * M)
    return o, steady
