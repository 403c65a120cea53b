"""A box whose recognizer takes longer over one frame than the camera's `max_frame_age_s` (a Pi 4 on
OpenCV, 32-bit Raspberry Pi OS, where there is no onnxruntime): every reading is of a lane that has
moved on and is dropped, in trigger mode as in continuous mode. The camera's health says so, with
what to do (docs/hardware.md, *Cameras*), and a higher `max_frame_age_s` lets the box decide plates.
The real camera driver, PlateReader and LaneVoter (tests/lane_helpers.py's Lane)."""

from __future__ import annotations

import pytest

from tests.lane_helpers import Lane

A = "皖A12345"
FRAME_S = 0.04  # 25 fps; a car waits at the barrier, in view, in each test


@pytest.mark.parametrize("read_mode", ["continuous", "trigger"])
def test_a_box_too_slow_for_max_frame_age_s_says_so_and_what_to_do_on_the_cameras_health(
    monkeypatch: pytest.MonkeyPatch, read_mode: str
) -> None:
    """0.6 s a frame against the default 0.5 s: no plate is decided, and the devices page shows why
    and the fix, while the camera stays online (its stream is fine)."""
    lane = Lane(monkeypatch, read_mode=read_mode)
    lane.camera.health.set_online()
    lane.loop(0.0)
    lane.frames(0.0, 60.0, [A], step=FRAME_S, read_s=0.6)
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
    lane.frames(0.0, 10.0, [A], step=FRAME_S, read_s=0.6)
    assert lane.camera.health.snapshot()["last_error"] != ""
    lane.frames(10.0, 20.0, [A], step=FRAME_S, read_s=0.1)
    assert lane.camera.health.snapshot()["last_error"] == ""


def test_a_higher_max_frame_age_s_lets_a_box_that_slow_decide_plates(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other remedy the health names: a car waiting at the barrier is still there 0.6 s later."""
    lane = Lane(monkeypatch, read_mode="trigger", max_frame_age_s=1.0)
    lane.camera.health.set_online()
    lane.loop(0.0)
    lane.frames(0.0, 10.0, [A], step=FRAME_S, read_s=0.6)
    assert lane.times(A) == [0.6]  # as the first frame's reading ended
    assert lane.camera.health.snapshot()["last_error"] == ""
