"""Review 58e: an event's clip stays its own whatever the clocks do. A clip is tied to its alarm or
audit row (event_clips table), not found by a time: NTP setting a Pi's stale boot clock re-dates
the alarm and it keeps its clip; the autumn hour a summer-time site lives twice gives each forcing
its own clip. The clip's window runs on the monotonic clock: a wall clock stepped back an hour
while a clip is gathered does not keep it "recording" (and its frames in memory) for an hour."""

from __future__ import annotations

import time as real_time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

import drivers.cameras.clips as clips_module
import gateway.runtime.event_clips as event_clips_module
from drivers.cameras.clips import ClipRecorder, ClipSettings, ClipWriter
from drivers.health import DeviceHealth
from gateway.alarm_texts import AlarmText
from gateway.runtime.devices import ClipCamera
from gateway.runtime.event_clips import ClippedAlarm, EventClips, alarm_clips
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import acknowledge_alarm, raise_alarm
from tests.drivers.test_event_clips import NAME, Picture
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
FORCED = AlarmText("forced_open", {"lane": "car-in", "device": "car-in-io"})


def test_a_clip_ends_on_time_when_the_clock_is_stepped_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = {"by": 0.0}
    stepped = SimpleNamespace(time=lambda: real_time.time() + step["by"], monotonic=real_time.monotonic)
    monkeypatch.setattr(clips_module, "time", stepped)
    health = DeviceHealth("car-in-camera", "camera", "car-in", "opencv")
    writer = ClipWriter(tmp_path, {health.device: health}.get)
    recorder = ClipRecorder("car-in-camera", Picture().latest, writer, ClipSettings(fps=10, seconds=1.0))
    recorder.start()
    try:
        real_time.sleep(1.0)
        recorder.record(NAME)  # a forcing: a second before, a second after
        real_time.sleep(0.3)
        step["by"] = -3600.0  # NTP steps the clock back an hour
        real_time.sleep(2.5)
        writer.flush()
        assert not writer.pending(NAME), "still 'recording' 2.5 s after a 1 s clip"
        assert (tmp_path / NAME).is_file()
    finally:
        recorder.stop()
        writer.close()


@pytest.fixture
def clips(make_gw: Callable[..., Gateway]) -> Iterator[tuple[Gateway, EventClips]]:  # noqa: F811
    gw = make_gw()
    health = DeviceHealth("car-in-camera", "camera", "car-in", "opencv")
    cam = ClipCamera("car-in", "car-in-camera", Picture().latest, ClipSettings(fps=10, seconds=0.5))
    made = EventClips(gw.data_dir, [cam], [health], gw.site.tz)
    made.start()
    yield gw, made
    made.stop()


def forced(gw: Gateway, clips: EventClips, at: datetime) -> int:
    """The car-in barrier forced at `at`: its alarm raised with its clip, as Gateway._barrier_alarm
    hands it to the worker; the alarm's id."""
    cut = clips.cut("forced_open", "car-in")
    change = partial(raise_alarm, kind="forced_open", source="car-in", text=FORCED, at=at)
    assert ClippedAlarm(change, cut, clips).write(gw.conn)
    return int(gw.conn.execute("SELECT max(id) FROM alarms").fetchone()[0])


def listed(gw: Gateway, clips: EventClips, alarm_id: int) -> list[dict[str, str]]:
    clips.writer.flush()
    row = {"id": alarm_id, "kind": "forced_open"}
    return alarm_clips(clips, gw.conn, row)


def gathered(gw: Gateway, clips: EventClips, alarm_id: int) -> list[dict[str, str]]:
    """listed, once none of the alarm's clips is still recording: a loaded machine's camera thread
    gathers a clip's last frame late (60 s bounds a hang)."""
    deadline = real_time.monotonic() + 60
    while any(c["state"] == "recording" for c in listed(gw, clips, alarm_id)):
        if real_time.monotonic() > deadline:
            break
        real_time.sleep(0.05)
    return listed(gw, clips, alarm_id)


def test_a_forcing_before_ntp_keeps_its_clip_once_the_clock_is_set(clips: tuple[Gateway, EventClips]) -> None:
    """A Pi boots on fake-hwclock's stale time and the barrier is forced; NTP then sets the clock and
    the boot's rows are re-dated (store/redate.py): the alarm still lists its clip."""
    gw, made = clips
    stale = T0 - 3 * H  # the box really boots at T0 - 2:05: the clock is 55 minutes behind
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    real_time.sleep(0.6)
    alarm = forced(gw, made, stale + 30 * S)
    before = gathered(gw, made, alarm)
    assert [c["state"] for c in before] == ["saved"]
    raised = gw.conn.execute("SELECT raised_at FROM alarms WHERE id = ?", (alarm,)).fetchone()[0]
    steady.s = (2 * H + 5 * M).total_seconds()
    o.tick(T0)  # NTP has set the clock 55 minutes on
    assert gw.conn.execute("SELECT raised_at FROM alarms WHERE id = ?", (alarm,)).fetchone()[0] != raised
    assert listed(gw, made, alarm) == before


def test_two_forcings_at_one_local_time_in_the_autumn_hour_keep_their_own_clips(
    clips: tuple[Gateway, EventClips], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site on Europe/Berlin: the barrier is forced at 02:30 summer time and again at 02:30 winter
    time, an hour later. Each alarm lists its own clip, and both are on the disk."""
    gw, made = clips
    made.tz = ZoneInfo("Europe/Berlin")
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = first + H  # 02:30 CET
    ids, files = [], []
    for at in (first, second):
        monkeypatch.setattr(event_clips_module, "time", SimpleNamespace(time=at.timestamp))
        real_time.sleep(0.6)
        alarm = forced(gw, made, at)
        (clip,) = gathered(gw, made, alarm)
        assert clip["state"] == "saved"
        ids.append(alarm)
        files.append(clip["file"])
        acknowledge_alarm(gw.conn, alarm, at, "guard1")  # closed: the next forcing is a new alarm
    assert files[0] != files[1], "one file for two forcings: the first forcing's video is gone"
    assert all((gw.data_dir / f).is_file() for f in files)
    assert [c["file"] for c in listed(gw, made, ids[0])] == [files[0]]
