"""docs/hardware.md, Cameras (`opencv`): after a stall "No frame is read until the stream is back
within `max_frame_age_s` of the camera, however the backlog drains: in one gulp, or as fast as a
recovering link allows ... The frames until then are dropped: a car that drove off during the
stall opens nothing"."""

from __future__ import annotations

import pytest

from drivers.cameras.backlog import Backlog

FPS = 25.0
INTERVAL = 1 / FPS
MAX_AGE_S = 0.5  # max_frame_age_s, the default
DECODE_S = 0.01  # a backlog read at the box's decoding pace


def _read_old(frames: list[tuple[float, float]]) -> list[float]:
    """Feed (taken, arrived) frames to one stream's Backlog; the ages of those taken as live though
    older than max_frame_age_s."""
    backlog = Backlog(MAX_AGE_S, FPS)
    return [
        round(arrived - taken, 2)
        for taken, arrived in frames
        if backlog.live(arrived) and arrived - taken > MAX_AGE_S
    ]


def _live_again(frames: list[tuple[float, float]]) -> bool:
    """Whether the last second of `frames` (the stream caught up, at the camera's pace) is live."""
    backlog = Backlog(MAX_AGE_S, FPS)
    live = [backlog.live(arrived) for _, arrived in frames]
    return all(live[-int(FPS) :])


def test_one_skipped_half_second_before_a_stall_does_not_let_its_backlog_be_read_as_live() -> None:
    """A 25 fps camera skips 0.48 s of frames (its IR filter switching at dusk: no frame queued, the
    stream merely late once), then half a second later its link stalls for 3 s and TCP delivers the
    75 queued frames as fast as the box decodes. The one long gap went into the mean of 25 gaps
    (usual interval 58 ms, not 40), so the lag was made up 1.5 times too fast and frames up to
    1.4 s old, the car in them long gone, were read as live. Expected: none older than 0.5 s."""
    frames = [(k * INTERVAL, k * INTERVAL) for k in range(75)]  # 3 s live
    t = 74 * INTERVAL + 0.48  # the skipped half second: the next frame is simply late
    frames += [(t + k * INTERVAL, t + k * INTERVAL) for k in range(13)]
    t += 12 * INTERVAL  # the last frame before the stall
    stall_s, arrived = 3.0, 0.0
    for k in range(1, int((stall_s + 3.0) * FPS)):
        taken = t + k * INTERVAL
        arrived = t + stall_s if k == 1 else max(taken, arrived + DECODE_S)
        frames.append((taken, arrived))
    old = _read_old(frames)
    assert not old, f"{len(old)} frames of the backlog read as live though up to {max(old)} s old"
    assert _live_again(frames)


def _second_pause(pause_s: float) -> list[tuple[float, float]]:
    """25 fps, a 3 s stall, the oldest queued frame, `pause_s` more of silence, then the rest of
    the queue in one gulp and the live frames behind it."""
    frames = [(k * INTERVAL, k * INTERVAL) for k in range(75)]
    t = 74 * INTERVAL
    frames.append((t + INTERVAL, t + 3.0))  # the oldest queued frame, as the link comes back
    arrived = t + 3.0 + pause_s  # then more silence, the rest of the queue behind it
    for k in range(2, 300):
        taken = t + k * INTERVAL
        arrived = arrived if k == 2 else max(taken, arrived + DECODE_S)
        frames.append((taken, arrived))
    return frames


@pytest.mark.parametrize("pause_s", [1.0, 1.5, 2.0, 4.0])
def test_a_backlog_delivered_after_a_second_pause_is_not_read_as_live(pause_s: float) -> None:
    """A 25 fps camera's link stalls for 3 s; as it recovers TCP delivers the oldest queued frame,
    then retransmits after another 1.5 s (its retry timer doubling), then the whole queue in one
    gulp. The frame after the second pause was taken for a camera that slowed to 1 fps on a still
    scene (_slowed): the stream was live again with a usual interval of 1.5 s, and the gulp's 4 s
    old frames were read as live. Expected: none older than max_frame_age_s (0.5 s) is read."""
    frames = _second_pause(pause_s)
    old = _read_old(frames)
    assert not old, f"{len(old)} frames of the backlog read as live though up to {max(old)} s old"
    assert _live_again(frames)


def test_a_second_pause_as_long_as_the_first_has_only_its_one_frame_read() -> None:
    """docs/hardware.md, Limits: a second silence as long as the first looks, for one frame, like a
    camera that slowed to that rate; the gulp right after it shows a queue, and is dropped."""
    frames = _second_pause(3.0)
    old = _read_old(frames)
    assert len(old) == 1, f"{len(old)} frames of the backlog read as live though up to {max(old)} s old"
    assert _live_again(frames)


def test_a_dynamic_fps_camera_back_at_25_fps_right_after_slowing_is_soon_live() -> None:
    """25 fps, two frames at 1 fps (the lane still), then 25 fps again (a car drives up): the fast
    frames after the slow one are taken for a queue, but they come at the camera's pace, and the
    stream is live again within PACED frames."""
    backlog = Backlog(MAX_AGE_S, FPS)
    times = [k * INTERVAL for k in range(75)]
    times += [times[-1] + 1.0, times[-1] + 2.0]
    times += [times[-1] + (k + 1) * INTERVAL for k in range(20)]
    live = [backlog.live(t) for t in times][75:]
    assert live[:2] == [False, True] and all(live[5:]), live
