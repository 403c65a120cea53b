"""Which events get a clip of the lane's video, what it is named, and where the pages find it.

A clip is cut for every camera of the lane that keeps clips (drivers/cameras/clips.py) when:
- an alarm about the lane's barrier or door is raised: forced open, held open, an arm that did not
  rise, a car through on another's opening (`CLIP_ALARMS`);
- a guard or the centre opens the lane by hand (开闸): what he let through is on record with his
  reason.

It is cut at once (its seconds before are in the camera's memory only so long), and tied to its
event once the event is on record: a row of `event_clips` names the alarm or the audit row and the
file (store/schema.py, step 59), so a clock NTP sets afterwards (which re-dates the rows) or the
hour a clock change repeats never ties an event to another's clip. An alarm that was open already
(the write raised none: a dead barrier refusing car after car) has the clips cut for it called off.
The file is named by the site's day and time it was cut, to the microsecond, and the event:
snapshots/<YYYY-MM-DD>/<HHMMSS-ffffff+zzzz>-clip-<event>-<lane>-<camera>.webm (the UTC offset:
the hour a clock change repeats names two clips apart). Retention treats it as a snapshot.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from functools import partial
from pathlib import Path

from drivers.cameras.clips import ClipRecorder, ClipWriter
from drivers.health import DeviceHealth
from gateway.runtime.devices import ClipCamera
from gateway.runtime.hand_opens import Kept
from gateway.runtime.kept_records import AlarmChange
from gateway.store.alarms import raise_alarm_with
from gateway.store.outbox import enqueue

# Alarms about a lane's barrier or door, by kind: a tailgate's source is `lane@time`, the others'
# the lane.
CLIP_ALARMS = frozenset({"forced_open", "held_open", "barrier_no_response", "tailgate"})
OPENED = "open"  # an opening by hand (the lane.open audit row)

Cut = tuple[tuple[str, str], ...]  # the clips cut for one event: (camera, file) each


@dataclass(frozen=True, slots=True)
class ClipState:
    name: str  # relative to the data directory: the snapshots route serves it
    camera: str
    state: str  # "recording" (gathering or being written), "saved" or "missing"

    def json(self) -> dict[str, str]:
        return {"file": self.name, "camera": self.camera, "state": self.state}


def clip_name(event: str, lane: str, camera: str, wall: float, tz: tzinfo) -> str:
    local = datetime.fromtimestamp(wall, tz)  # with its offset: the autumn hour lived twice is two
    return f"snapshots/{local:%Y-%m-%d}/{local:%H%M%S-%f%z}-clip-{event}-{lane}-{camera}.webm"


@dataclass(frozen=True, slots=True)
class Described:
    event: str  # an alarm kind of CLIP_ALARMS, or OPENED
    lane: str
    camera: str
    at: str  # the site's local time it was cut, YYYY-MM-DD HH:MM:SS


_NAME = re.compile(
    r"snapshots/(\d{4}-\d{2}-\d{2})/(\d{2})(\d{2})(\d{2})-\d{6}[+-]\d{4}-clip-([a-z_]+)-([a-z0-9_-]+)\.webm"
)


def described(name: str, lanes: Iterable[str]) -> Described | None:
    """What a clip's name (as clip_name made it) says, its lane one of `lanes` (a lane or camera id
    may have dashes of its own); None for any other name."""
    found = _NAME.fullmatch(name)
    if found is None:
        return None
    day, hours, minutes, seconds, event, rest = found.groups()
    if event not in CLIP_ALARMS and event != OPENED:
        return None
    for lane in sorted(lanes, key=len, reverse=True):  # the longest first: car-in before car
        if rest.startswith(f"{lane}-") and len(rest) > len(lane) + 1:
            return Described(event, lane, rest[len(lane) + 1 :], f"{day} {hours}:{minutes}:{seconds}")
    return None


def alarm_lane(kind: str, source: str) -> str | None:
    """The lane an alarm with a clip is about; None for any other alarm."""
    return source.split("@", 1)[0] if kind in CLIP_ALARMS else None


class EventClips:
    """The site's cameras that keep clips, by lane, and their shared writer."""

    def __init__(
        self,
        data_dir: Path,
        cameras: Iterable[ClipCamera],
        health: Iterable[DeviceHealth],
        tz: tzinfo,
    ):
        self.data_dir = data_dir
        self.tz = tz
        self.writer = ClipWriter(data_dir, {h.device: h for h in health}.get)
        self._lanes: dict[str, list[ClipRecorder]] = {}
        for cam in cameras:
            recorder = ClipRecorder(cam.device, cam.latest, self.writer, cam.settings, tz)
            self._lanes.setdefault(cam.lane, []).append(recorder)
        self._by_device = {r.device: r for r in self._recorders()}

    def start(self) -> None:
        for recorder in self._recorders():
            recorder.start()

    def stop(self) -> None:
        for recorder in self._recorders():
            recorder.stop()
        self.writer.close()

    def _recorders(self) -> list[ClipRecorder]:
        return [r for lane in self._lanes.values() for r in lane]

    def cut(self, event: str, lane: str) -> Cut:
        """Start a clip of the event on each of the lane's cameras that keep them."""
        wall = time.time()
        cut = []
        for recorder in self._lanes.get(lane, ()):
            name = clip_name(event, lane, recorder.device, wall, self.tz)
            recorder.record(name)
            cut.append((recorder.device, name))
        return tuple(cut)

    def call_off(self, cut: Cut) -> None:
        """The event the clips were cut for is none after all: they are not kept."""
        for camera, name in cut:
            recorder = self._by_device.get(camera)
            if recorder is not None:
                recorder.cancel(name)

    def states(self, rows: Iterable[tuple[str, str]]) -> list[ClipState]:
        """The (file, camera) of an event's clips, recording or saved; one that is neither (past
        retention, not saved) left out."""
        found = []
        for name, camera in rows:
            state = self.state(name)
            if state != "missing":
                found.append(ClipState(name, camera, state))
        return found

    def state(self, name: str) -> str:
        """A clip named by the pages: recording, saved, or missing (past retention, or not saved)."""
        if self.writer.pending(name):
            return "recording"
        return "saved" if (self.data_dir / name).is_file() else "missing"


@dataclass(frozen=True, slots=True)
class ClippedAlarm(AlarmChange):
    """A barrier alarm's raise with the clips cut for it: tied to the alarm in the transaction
    that raises it, or called off when it raised none (one of that kind and source was open)."""

    cut: Cut = ()
    clips: EventClips | None = None

    def fold_in(self, later: Kept) -> ClippedAlarm:
        """A later raise of this alarm folded into this one while storage took no writes
        (hand_opens.WaitingRecords): its clips are this alarm's too."""
        return replace(self, cut=self.cut + later.cut) if isinstance(later, ClippedAlarm) else self

    def write(self, conn: sqlite3.Connection) -> bool:
        words = self.change.keywords
        tie = partial(tie_to_alarm, kind=words["kind"], source=words["source"], cut=self.cut)
        raised = raise_alarm_with(conn, tie, **words)
        if not raised and self.clips is not None:
            self.clips.call_off(self.cut)
        return raised


def tie_to_alarm(conn: sqlite3.Connection, kind: str, source: str, cut: Cut) -> None:
    """The clips cut for the alarm of this kind and source just raised, tied to it."""
    conn.executemany(
        "INSERT OR IGNORE INTO event_clips (file, camera, alarm_id) SELECT ?, ?, id FROM alarms "
        "WHERE kind = ? AND source = ? AND cleared_at IS NULL",
        [(name, camera, kind, source) for camera, name in cut],
    )


def tie_to_audit(conn: sqlite3.Connection, audit_id: int, cut: Cut, at: datetime, now: datetime) -> None:
    """The clips cut for an opening by hand, tied to its audit row; the centre gets the opening's
    `lane_action` record again (`at` its own time) with them, `"change": "clips"`: they are cut
    once the opening is on record, after its record was queued, and the centre is to know which
    shows what the guard let through (REQUIREMENTS 7). `now` dates the outbox row."""
    conn.executemany(
        "INSERT OR IGNORE INTO event_clips (file, camera, audit_id) VALUES (?, ?, ?)",
        [(name, camera, audit_id) for camera, name in cut],
    )
    actor, lane, reason = conn.execute(
        "SELECT actor, target, detail FROM audit WHERE id = ?", (audit_id,)
    ).fetchone()
    clips = [{"file": name, "camera": camera} for camera, name in sorted(cut, key=lambda c: c[1])]
    record = {"at": at.isoformat(), "lane": lane, "action": OPENED, "actor": actor, "reason": reason}
    enqueue(conn, "lane_action", {**record, "change": "clips", "clips": clips}, now)


def alarm_clips(
    clips: EventClips | None, conn: sqlite3.Connection, row: Mapping[str, object]
) -> list[dict[str, str]]:
    """An alarm row's clips, recording or saved: for the pages and API."""
    if clips is None or str(row["kind"]) not in CLIP_ALARMS:
        return []
    return _tied(clips, conn, "alarm_id", row["id"])


def opening_clips(
    clips: EventClips | None, conn: sqlite3.Connection, row: Mapping[str, object]
) -> list[dict[str, str]]:
    """A lane.open audit row's clips."""
    if clips is None or row["action"] != f"lane.{OPENED}":
        return []
    return _tied(clips, conn, "audit_id", row["id"])


def _tied(clips: EventClips, conn: sqlite3.Connection, column: str, ref: object) -> list[dict[str, str]]:
    """The clips tied to one alarm or audit row (`column`: alarm_id or audit_id), as the pages list them."""
    rows = conn.execute(f"SELECT file, camera FROM event_clips WHERE {column} = ? ORDER BY file", (ref,))
    return [c.json() for c in clips.states(rows.fetchall())]
