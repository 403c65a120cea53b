"""Which events get a clip of the lane's video, what it is named, and where the pages find it.

A clip is cut for every camera of the lane that keeps clips (drivers/cameras/clips.py) when:
- an alarm about the lane's barrier or door is raised: forced open, held open, an arm that did not
  rise, a car through on another's opening (`CLIP_ALARMS`);
- a guard or the centre opens the lane by hand (开闸): what he let through is on record with his
  reason.

The name says the event, so that the page showing the event finds its clip without a record of
its own: snapshots/<site's day>/<HHMMSS>-clip-<event>-<lane>-<camera>.webm, the time the event's
(the alarm's raised_at, the opening's audit row). Retention treats it as a snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from drivers.cameras.clips import ClipRecorder, ClipWriter
from drivers.health import DeviceHealth
from gateway.runtime.devices import ClipCamera

# Alarms about a lane's barrier or door, by kind: a tailgate's source is `lane@time`, the others'
# the lane.
CLIP_ALARMS = frozenset({"forced_open", "held_open", "barrier_no_response", "tailgate"})
OPENED = "open"  # an opening by hand (the lane.open audit row)


@dataclass(frozen=True, slots=True)
class ClipState:
    name: str  # relative to the data directory: the snapshots route serves it
    camera: str
    state: str  # "recording" (gathering or being written), "saved" or "missing"

    def json(self) -> dict[str, str]:
        return {"file": self.name, "camera": self.camera, "state": self.state}


def clip_name(event: str, lane: str, camera: str, at: datetime, tz: tzinfo) -> str:
    local = at.astimezone(tz)
    return f"snapshots/{local:%Y-%m-%d}/{local:%H%M%S}-clip-{event}-{lane}-{camera}.webm"


@dataclass(frozen=True, slots=True)
class Described:
    event: str  # an alarm kind of CLIP_ALARMS, or OPENED
    lane: str
    camera: str
    at: str  # the site's local time, YYYY-MM-DD HH:MM:SS


_NAME = re.compile(r"snapshots/(\d{4}-\d{2}-\d{2})/(\d{2})(\d{2})(\d{2})-clip-([a-z_]+)-([a-z0-9_-]+)\.webm")


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

    def start(self) -> None:
        for recorder in self._recorders():
            recorder.start()

    def stop(self) -> None:
        for recorder in self._recorders():
            recorder.stop()
        self.writer.close()

    def _recorders(self) -> list[ClipRecorder]:
        return [r for lane in self._lanes.values() for r in lane]

    def alarm_raised(self, kind: str, source: str, at: datetime) -> None:
        lane = alarm_lane(kind, source)
        if lane is not None:
            self._cut(kind, lane, at)

    def opened(self, lane: str, at: datetime) -> None:
        self._cut(OPENED, lane, at)

    def _cut(self, event: str, lane: str, at: datetime) -> None:
        for recorder in self._lanes.get(lane, ()):
            recorder.record(clip_name(event, lane, recorder.device, at, self.tz))

    def of_alarm(self, kind: str, source: str, raised_at: str) -> list[ClipState]:
        """The clips of an alarm row (raised_at as stored): none for an alarm that has none."""
        lane = alarm_lane(kind, source)
        return [] if lane is None else self._states(kind, lane, datetime.fromisoformat(raised_at))

    def of_opening(self, lane: str, at: str) -> list[ClipState]:
        """The clips of a lane.open audit row (at as stored)."""
        return self._states(OPENED, lane, datetime.fromisoformat(at))

    def _states(self, event: str, lane: str, at: datetime) -> list[ClipState]:
        found = []
        for recorder in self._lanes.get(lane, ()):
            name = clip_name(event, lane, recorder.device, at, self.tz)
            if self.writer.pending(name):
                found.append(ClipState(name, recorder.device, "recording"))
            elif (self.data_dir / name).is_file():
                found.append(ClipState(name, recorder.device, "saved"))
        return found

    def state(self, name: str) -> str:
        """A clip named by the pages: recording, saved, or missing (past retention, or not saved)."""
        if self.writer.pending(name):
            return "recording"
        return "saved" if (self.data_dir / name).is_file() else "missing"


def alarm_clips(clips: EventClips | None, row: Mapping[str, object]) -> list[dict[str, str]]:
    """An alarm row's clips (its raised_at as stored), recording or saved: for the pages and API."""
    if clips is None:
        return []
    return [c.json() for c in clips.of_alarm(str(row["kind"]), str(row["source"]), str(row["raised_at"]))]


def opening_clips(clips: EventClips | None, row: Mapping[str, object]) -> list[dict[str, str]]:
    """A lane.open audit row's clips (its at as stored)."""
    if clips is None or row["action"] != f"lane.{OPENED}":
        return []
    return [c.json() for c in clips.of_opening(str(row["target"]), str(row["at"]))]
