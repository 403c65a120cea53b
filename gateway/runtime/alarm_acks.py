"""An alarm acknowledged: by a guard at the booth (POST /api/alarms/{id}/acknowledge) or by the
monitoring centre (the signed command `acknowledge_alarm`, REQUIREMENTS 7: staffed 24 hours, it
handles every alarm). Both do the same: the store's acknowledge_alarm (its audit row, its
`acknowledged` record upstream, and `cleared` for an event alarm it closes), then the lane's inputs
are told of an event alarm it closed, so that the barrier forced up again is a new alarm."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any

from gateway.errors import NotFound, Refused
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import acknowledge_alarm, alarm_stream

# An alarm's id as its records upstream carry it (`alarm_id`, an integer) and the API's path takes
# it (api/deps.py Id): ASCII digits, 1 to SQLite's largest INTEGER. "٣", "1e3", " 7" and "+7" are
# not one (str.isdigit and int() take some of them).
_DIGITS = re.compile(r"[0-9]{1,19}")
MAX_ID = 2**63 - 1


def alarm_id_from(text: str) -> int:
    """The alarm id a command names, as text like its other args; Refused if it is not one."""
    if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= MAX_ID:
        raise Refused(
            f"alarm_id must be an alarm's id, digits only, not {text[:40]!r}",
            fix="give the alarm_id its alarm records carry, in digits: 57",
        )
    return int(text)


def acknowledging(
    gw: Gateway, alarm_id: int, actor: str, note: str, stream: str | None = None
) -> Callable[[sqlite3.Connection], dict[str, Any]]:
    """The acknowledgement, to run on the decision worker (gw.on_worker, or the API's write):
    returns acknowledge_alarm's answer (id, kind, source, closed, closed_now). Raises NotFound (no
    such alarm; or, with `stream`, none of that stream: a new box numbers its alarms from 1 again,
    so the centre's alarm 57 of the dead box is not this one's 57) or Conflict already_done."""

    def acknowledged(conn: sqlite3.Connection) -> dict[str, Any]:
        if stream is not None:
            _of_stream(conn, alarm_id, stream)
        done = acknowledge_alarm(conn, alarm_id, gw.now(), actor, note.strip())
        if done["closed_now"]:  # told on the worker as it commits, answered in time or not
            gw.lane_io.closed_by_guard(str(done["kind"]), str(done["source"]))
        return done

    return acknowledged


def _of_stream(conn: sqlite3.Connection, alarm_id: int, stream: str) -> None:
    """NotFound unless this box holds alarm `alarm_id` of `stream`: the centre's command (review
    61c: an alarm deleted by retention, or never raised here, was said to be a replaced box's)."""
    if not conn.execute("SELECT 1 FROM alarms WHERE id = ?", (alarm_id,)).fetchone():
        raise NotFound(
            f"no alarm {alarm_id} on this gateway",
            fix="nothing to do here: it was never raised on this box, or was closed and deleted "
            "by retention since",
        )
    if (alarm_stream(conn, alarm_id) or "") != stream:
        raise NotFound(
            f"no alarm {alarm_id} of stream {stream!r} on this gateway",
            fix="nothing to do here: that alarm was another database's (a box replaced or restored)",
        )
