"""The repair deadlines the operations thread keeps (Operations, gateway/parking/operations.py): the
faults of devices back online cleared as of their return, and repair_overdue raised, cleared, or
raised and cleared as of a repair made past the limit between two looks.

Apart from operations.py so that the deadlines read in one sitting; which faults are overdue is
gateway/parking/repairs.py's and gateway/parking/faults.py's.
"""

from __future__ import annotations

import logging
from contextlib import closing
from datetime import datetime, timedelta
from functools import partial

from gateway.parking.faults import (
    late_repairs,
    overdue_text,
    repairs_from,
    tell_late_repair,
    untold_repairs,
    untrusted_spans,
)
from gateway.parking.operations_base import BACKFILL_DAYS, TICK_S, OperationsBase
from gateway.parking.repairs import Overdue, date_faults_ahead, overdue_repairs
from gateway.store.alarms import clear_alarm, raise_alarm
from gateway.store.config_seen import keep_repairs_judged, repairs_judged
from gateway.store.device_returns import clear_returned, waiting_returns

log = logging.getLogger("gateway.parking.operations")  # its journal lines stay operations.py's


class RepairDeadlines(OperationsBase):
    # ---- repair deadlines ----------------------------------------------------------------------

    def returns(self, now: datetime) -> list[str]:
        """Clear the faults of the devices back online for `[alarms] clear_after_s`, as of their
        return (store/device_returns.py). On the wall clock but not paused after its step, as a
        device's alarm is not: a clock set back counts the wait from now. Not for a device whose
        change still waits in memory for storage (it may have gone off again)."""
        held = self._run(self._unwritten)
        if held.every_device:
            return []
        after = timedelta(seconds=self.cfg.alarms.clear_after_s)
        with closing(self._read()) as conn:
            due = waiting_returns(conn)
        if not any(now - at >= after or at > now for at in due.values()):
            return []
        cleared: list[str] = self._run(partial(clear_returned, now=now, after=after, keep=held.devices))
        for device in cleared:
            log.info(
                "device %s back online for %g s: its device_offline alarm cleared as of its return",
                device,
                after.total_seconds(),
            )
        return cleared

    def repairs(self, now: datetime) -> list[Overdue]:
        """A device offline past [alarms] repair_hours raises repair_overdue; back online clears it.
        A fault dated after now (raised on a clock since set back) counts from now, but for one ahead
        of the stale boot clock (BootClock.may_be_stale: a true time). One repaired past
        the limit since the last look that judged repairs, before a look found it overdue, raises and
        clears it as of the repair (late_repairs: not across a clock step, nor for a device taken
        out of the config)."""
        limit = timedelta(hours=self.cfg.alarms.repair_hours)
        # A fault is cleared when its turn on the decision worker comes: after this turn, every one
        # cleared before now is written (those a full disk kept in memory too, if it has room now),
        # and the next look starts from now. A device whose alarm's change still waits is not
        # judged (a return that waits: repaired on time, it was not overdue), and the next look
        # starts no later than that change, so that a return written since is judged then.
        held = self._run(self._unwritten)
        with closing(self._read()) as conn:
            overdue, repaired, ahead = overdue_repairs(conn, now, limit)
            judged = repairs_judged(conn)
            since = repairs_from(conn, judged, now, oldest=now - timedelta(days=BACKFILL_DAYS))
            untold = untold_repairs(conn, since, now)
            untrusted = untrusted_spans(conn, timedelta(seconds=TICK_S))
            back = waiting_returns(conn)
        # and no later than a return that waits to clear: it is cleared as of the return, later
        judged_to = min(now, held.since or now, *back.values())
        if held.since is not None:
            waits = sorted(held.devices) if not held.every_device else ["every device (settled at start)"]
            log.debug(
                "repair deadlines not judged for devices whose alarms wait in memory for storage "
                "(the data disk is full): %s",
                ", ".join(waits),
            )
            overdue = [late for late in overdue if not held.holds(late.device)]
            repaired = [device for device in repaired if not held.holds(device)]
        configured = {d.id for d in self.cfg.devices}
        for fault in late_repairs(untold, limit, untrusted, configured):
            if not self._run(partial(tell_late_repair, late=fault, limit=limit)):
                judged_to = min(judged_to, fault.repaired)  # to be told at a later look
                continue
            log.info(
                "device %s was repaired %s, %.1f hours after its fault, past the %g-hour limit: "
                "repair_overdue raised and cleared as of then",
                fault.device,
                fault.repaired.astimezone(self.site.tz).strftime("%Y-%m-%d %H:%M"),
                (fault.repaired - fault.since) / timedelta(hours=1),
                limit / timedelta(hours=1),
            )
        if untold or judged is None or judged > judged_to:  # else nothing was judged since the mark
            self._run(partial(keep_repairs_judged, at=judged_to))
        # A fault ahead of the stale boot clock is one from before the power cut, after fake-hwclock's
        # last save: a true time, which the step that sets the clock puts behind now. Only one ahead
        # of a clock that was set, or stepped while running, was dated on a clock that ran ahead.
        if ahead and not self.clock.may_be_stale(self._monotonic()):
            self._run(partial(date_faults_ahead, now=now))
            log.info(
                "device faults dated after now (raised on a clock since set back): %s; their repair "
                "deadline counts from now",
                ", ".join(ahead),
            )
        for late in overdue:
            text = overdue_text(late.device, late.age, limit)
            self._run(partial(raise_alarm, kind="repair_overdue", source=late.device, text=text, at=now))
        for device in repaired:
            self._run(partial(clear_alarm, kind="repair_overdue", source=device, at=now))
        return overdue
