"""Event clips (drivers/cameras/clips.py): a camera keeps its recent picture, and a clip asked for
holds the seconds before the event and as many after it, as a WebM a browser plays, under the
snapshots' day folder that retention prunes. Real OpenCV encoding and decoding, real files."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.cameras.clips import ClipRecorder, ClipSettings, ClipWriter
from drivers.cameras.frame import Frame
from drivers.health import DeviceHealth
from gateway.parking.retention import snapshot_files

NAME = "snapshots/2026-11-25/030000-clip-forced_open-car-in-car-in-camera.webm"


class Picture:
    """A 1280x720 camera whose brightness says which moment each frame is from."""

    def __init__(self) -> None:
        self.seq = 0
        self.offline = False

    def latest(self) -> Frame | None:
        if self.offline:
            return None
        self.seq += 1
        level = (self.seq * 7) % 200 + 30
        image = np.full((720, 1280, 3), level, np.uint8)
        return Frame(image, self.seq, time.monotonic(), time.time())


@pytest.fixture
def health() -> DeviceHealth:
    return DeviceHealth("car-in-camera", "camera", "car-in", "opencv")


@pytest.fixture
def writer(tmp_path: Path, health: DeviceHealth) -> Iterator[ClipWriter]:
    w = ClipWriter(tmp_path, {health.device: health}.get)
    yield w
    w.close()


def frames_of(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        frames.append(image)
    cap.release()
    return frames


def sample_for(recorder: ClipRecorder, seconds: float, fps: int) -> None:
    """The recorder's own thread, played by hand: a sample every 1/fps seconds."""
    for _ in range(round(seconds * fps)):
        recorder.sample(time.monotonic())
        time.sleep(1 / fps)


def test_a_clip_holds_the_seconds_before_the_event_and_as_many_after(
    tmp_path: Path, writer: ClipWriter, health: DeviceHealth
) -> None:
    """A barrier forced at 03:00: the guard's clip starts a second before (who walked up to it)
    and runs a second after, 640 px wide, the time burnt in; retention sees it as footage."""
    camera = Picture()
    settings = ClipSettings(fps=10, seconds=1.0)
    recorder = ClipRecorder("car-in-camera", camera.latest, writer, settings)
    sample_for(recorder, 2.0, settings.fps)  # two seconds of picture: one is kept
    recorder.record(NAME)
    assert writer.pending(NAME), "the page can say the clip is being saved"
    sample_for(recorder, 1.3, settings.fps)
    writer.flush()
    path = tmp_path / NAME
    assert path.is_file() and not writer.pending(NAME)
    frames = frames_of(path)
    assert 15 <= len(frames) <= 24, f"{len(frames)} frames for a second before and a second after"
    assert frames[0].shape[:2] == (360, 640)
    corner = frames[0][5:30, 5:300]  # the time stamp: white and black strokes on the grey picture
    assert corner.max() > 240 and corner.min() < 15
    assert health.counters["clips_written"] == 1
    assert [f.path for f in snapshot_files(tmp_path / "snapshots")] == [path]  # pruned with snapshots


def test_a_camera_without_picture_writes_no_clip_and_counts_it(
    tmp_path: Path, writer: ClipWriter, health: DeviceHealth
) -> None:
    camera = Picture()
    camera.offline = True
    recorder = ClipRecorder("car-in-camera", camera.latest, writer, ClipSettings(fps=10, seconds=0.5))
    recorder.record(NAME)
    sample_for(recorder, 0.8, 10)
    writer.flush()
    assert not writer.pending(NAME)
    assert not (tmp_path / NAME).exists()
    assert health.counters["clips_failed"] == 1


def test_a_clip_the_disk_refuses_leaves_nothing_half_written(
    tmp_path: Path, writer: ClipWriter, health: DeviceHealth
) -> None:
    """The day's folder cannot be made (a file in its place: as a disk that refuses the write):
    no clip, no hidden part left behind, counted on the camera's health; the next is saved."""
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "2026-11-25").write_text("not a folder")
    recorder = ClipRecorder("car-in-camera", Picture().latest, writer, ClipSettings(fps=10, seconds=0.3))
    recorder.record(NAME)
    sample_for(recorder, 0.6, 10)
    writer.flush()
    assert health.counters["clips_failed"] == 1 and not writer.pending(NAME)
    other = "snapshots/2026-11-26/030000-clip-forced_open-car-in-car-in-camera.webm"
    recorder.record(other)
    sample_for(recorder, 0.6, 10)
    writer.flush()
    assert (tmp_path / other).is_file()
    assert [p.name for p in (tmp_path / "snapshots" / "2026-11-26").iterdir()] == [Path(other).name]


def test_the_same_clip_asked_twice_is_cut_once(
    tmp_path: Path, writer: ClipWriter, health: DeviceHealth
) -> None:
    """Two openings by hand in one second are one clip (they are named alike), written once."""
    recorder = ClipRecorder("car-in-camera", Picture().latest, writer, ClipSettings(fps=10, seconds=0.3))
    recorder.record(NAME)
    recorder.record(NAME)
    sample_for(recorder, 0.6, 10)
    writer.flush()
    assert health.counters["clips_written"] == 1 and health.counters["clips_failed"] == 0


def test_a_stop_writes_what_was_gathered(tmp_path: Path, writer: ClipWriter, health: DeviceHealth) -> None:
    """The gateway stopped (an upgrade) a second after a forcing: the clip keeps what it had."""
    recorder = ClipRecorder("car-in-camera", Picture().latest, writer, ClipSettings(fps=10, seconds=5))
    recorder.start()
    time.sleep(0.6)
    recorder.record(NAME)
    time.sleep(0.5)
    recorder.stop()
    writer.flush()
    assert 5 <= len(frames_of(tmp_path / NAME)) <= 14
