"""docs/hardware.md, Cameras (`opencv`): "Unchanged for 5 s, the camera goes offline (a
`device_offline` alarm: "picture frozen ...")", counted from the picture's first repeat whatever
`max_frame_age_s` the site set."""

from __future__ import annotations

import numpy as np
import pytest

from drivers.cameras.backlog import Backlog
from drivers.cameras.capture import OpenCvCamera
from drivers.cameras.frozen import ALARM_AFTER_S, FrozenPicture, Picture
from tests.drivers.conftest import health

FPS = 25


@pytest.mark.parametrize("max_frame_age_s", [0.5, 8.0])
def test_a_picture_frozen_for_5_s_puts_the_camera_offline_whatever_max_frame_age_s(
    max_frame_age_s: float,
) -> None:
    """A site that set max_frame_age_s = 8 (allowed up to 10, for a slow box) has a camera whose
    encoder hung: its stream repeats one picture at 25 fps. After 6 s the camera should be offline
    with "picture frozen" (docs: 5 s); it showed healthy, the alarm coming only at 8 s."""
    camera = OpenCvCamera(
        health("gate-cam", "camera", "car-in"), "rtsp://10.0.0.9/stream", max_frame_age_s=max_frame_age_s
    )
    backlog, frozen = Backlog(max_frame_age_s, FPS), FrozenPicture()  # as OpenCvCamera._read_frames
    picture = np.random.default_rng(1).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    for i in range(int(6.0 * FPS) + 1):  # 6 s of the same picture at 25 fps
        camera._take(picture.copy(), 100.0 + i / FPS, backlog, frozen)
    state = camera.health.snapshot()
    assert not state["online"], f"still online after 6 s frozen: {state['last_error']!r}"
    assert "picture frozen" in state["last_error"]


def test_a_repeated_picture_is_still_for_5_s_from_its_first_repeat_then_frozen() -> None:
    picture = FrozenPicture()
    rng = np.random.default_rng(2)
    first, other = (rng.integers(0, 255, (120, 160, 3), dtype=np.uint8) for _ in range(2))
    assert picture.judge(other.copy(), 9.96) is Picture.FIRST  # the stream's first picture
    judged = [picture.judge(first.copy(), 10.0 + i / FPS) for i in range(int(ALARM_AFTER_S * FPS) + 2)]
    assert judged[0] is Picture.NEW
    assert set(judged[1 : int(ALARM_AFTER_S * FPS)]) == {Picture.STILL}
    assert set(judged[int(ALARM_AFTER_S * FPS) :]) == {Picture.FROZEN}
    assert picture.judge(other, 20.0) is Picture.NEW  # a different picture: live again
