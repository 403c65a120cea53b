"""A box whose recognizer takes longer over one frame than the camera's `max_frame_age_s` (a Pi 4 on
OpenCV, 32-bit Raspberry Pi OS, where there is no onnxruntime): every reading is of a lane that has
moved on and is dropped, in trigger mode as in continuous mode. The camera's health says so, with
what to do (docs/hardware.md, *Cameras*), and a higher `max_frame_age_s` lets the box decide plates.
The real camera driver, PlateReader and LaneVoter (tests/test_lane_passages.py's Lane)."""

from __future__ import annotations

import pytest

from drivers.cameras.frame import Frame
from plates.reading import Reading
from tests.test_lane_passages import AT_BARRIER, START, Lane

A = "皖A12345"


def car_waiting(lane: Lane, read_s: float, start: float, end: float) -> None:
    """A car waits at the barrier from `start` to `end`; each frame takes the recognizer `read_s`
    (on the lane's clock), and the camera hands it the newest frame whenever it is free (25 fps)."""
    fast = lane.recognizer.read_frame

    def slow(image: object, roi: object = None) -> list[Reading]:
        lane.now += read_s
        return fast(image, roi)  # type: ignore[arg-type]

    lane.recognizer.read_frame = slow  # type: ignore[method-assign]
    lane.recognizer.in_view = [Reading(A, "blue", 0.99, AT_BARRIER)]
    lane.now = START + start
    while lane.now < START + end:
        lane._seq += 1
        lane.camera.consume_frame(Frame(lane._image, lane._seq, lane.now, 1.7e9 + lane.now), lane._emit)
        lane.now += 0.04
    lane.recognizer.read_frame = fast  # type: ignore[method-assign]


@pytest.mark.parametrize("read_mode", ["continuous", "trigger"])
def test_a_box_too_slow_for_max_frame_age_s_says_so_and_what_to_do_on_the_cameras_health(
    monkeypatch: pytest.MonkeyPatch, read_mode: str
) -> None:
    """0.6 s a frame against the default 0.5 s: no plate is decided, and the devices page shows why
    and the fix, while the camera stays online (its stream is fine)."""
    lane = Lane(monkeypatch, read_mode=read_mode)
    lane.camera.health.set_online()
    lane.loop(0.0)
    car_waiting(lane, 0.6, 0.0, 60.0)
    health = lane.camera.health.snapshot()
    assert lane.presented == []  # decided on frames that no longer show the lane: never
    assert health["online"], "a slow recognizer is not a camera offline"
    error = health["last_error"]
    assert "max_frame_age_s" in error and "onnxruntime" in error, (
        f"most readings are dropped ({health['counters'].get('stale_reads')} stale) and the "
        f"camera's health does not say so: last_error {error!r}"
    )


def test_the_note_goes_once_plates_are_read_in_time_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The box was slow for a while (a backup running beside the gateway), then is not."""
    lane = Lane(monkeypatch)
    lane.camera.health.set_online()
    car_waiting(lane, 0.6, 0.0, 10.0)
    assert lane.camera.health.snapshot()["last_error"] != ""
    car_waiting(lane, 0.1, 10.0, 20.0)
    assert lane.camera.health.snapshot()["last_error"] == ""


def test_a_higher_max_frame_age_s_lets_a_box_that_slow_decide_plates(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other remedy the health names: a car waiting at the barrier is still there 0.6 s later."""
    lane = Lane(monkeypatch, read_mode="trigger", max_frame_age_s=1.0)
    lane.camera.health.set_online()
    lane.loop(0.0)
    car_waiting(lane, 0.6, 0.0, 10.0)
    assert lane.times(A) == [0.6]  # as the first frame's reading ended
    assert lane.camera.health.snapshot()["last_error"] == ""
