"""docs/hardware.md, Cameras (`opencv`): after a stall, "No frame is read until the stream is back
within `max_frame_age_s` of the camera, however the backlog drains ... one whose frames come in
twos (Wi-Fi) is live again once as long as the pause has passed"."""

from __future__ import annotations

from drivers.cameras.backlog import Backlog

FPS = 25.0
DECODE_S = 0.01  # a box decoding a frame in 10 ms: a backlog is read at that pace
MAX_AGE_S = 0.5  # max_frame_age_s, the default


def test_a_wifi_camera_s_backlog_is_not_read_while_seconds_old() -> None:
    """A camera on Wi-Fi whose frames arrive in twos (25 fps, two frames every 80 ms) stalls for 3 s
    (the access point rebooting); TCP then delivers the 75 frames it queued as fast as the box
    decodes them. None of those frames should be read as live while it is more than max_frame_age_s
    (0.5 s) older than the camera: the car in them has driven off. Frames 1.7 s old were read live,
    because the stream's usual interval was taken as the median of the pairs' gaps (70 ms or 10 ms),
    not the camera's 40 ms, and the lag was made up too fast."""
    interval = 1 / FPS
    backlog = Backlog(MAX_AGE_S, FPS)
    stall_from, stall_s = 4.0, 3.0
    last = None
    read_old: list[float] = []
    live: list[bool] = []
    for k in range(int(12 * FPS)):
        taken = k * interval
        sent = (k | 1) * interval  # frames 2j and 2j+1 go out together, once the second is taken
        if stall_from <= sent < stall_from + stall_s:
            sent = stall_from + stall_s  # queued in the stall, sent when the link is back
        arrived = sent if last is None else max(sent, last + DECODE_S)
        last = arrived
        live.append(backlog.live(arrived))
        if live[-1] and arrived - taken > MAX_AGE_S:
            read_old.append(round(arrived - taken, 2))
    assert not read_old, f"{len(read_old)} frames read as live though up to {max(read_old)} s old"
    assert all(live[-int(2 * FPS) :])  # 3 s after the stall ended: live again, its plates read
