"""A car held at the exit to pay stands at the barrier while its driver finds his phone; the lane's
camera decides it again every 15 s (flag refused_again: one car held, not a new one). Nothing changed
for the driver, yet the voice played "临时车 请缴费 9元 苏E 1 2 3 4 5" again at every repeat, four
times in 45 s, each cutting the last one short (Review 60u, noticed by reviewer 60n). A repeat whose
words the lane shows already is sent to the LED again, not to the voice; a repeat that tells the
driver something new (a fee grown past the next hour) is said."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, make_gw, show  # noqa: F401  (fixtures)

H = timedelta(hours=1)
CAR = "苏E12345"
SPEAKER = 'import sys; open(sys.argv[1], "a", encoding="utf-8").write(sys.argv[2] + chr(10))'


def _said(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _wait_said(path: Path, n: int, within: float = 30.0) -> list[str]:
    # Long enough for a speech program started on a loaded machine; where nothing more may be
    # said, the caller gives the short time it listens for.
    deadline = time.monotonic() + within
    while len(_said(path)) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return _said(path)


def _again(gw: Gateway, at: datetime) -> None:
    ev = gw.handle(Presented("car-out", "plate", CAR, 0.97, at, "cam", again=True))
    assert ev.reason == "payment_due" and "refused_again" in ev.flags  # one car held, not a new one


def test_the_voice_is_not_replayed_at_every_camera_repeat_of_a_car_held_to_pay(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
) -> None:
    said = tmp_path / "said.txt"
    gw = make_gw(
        extra=f"""
[[devices]]
id = "car-out-voice"
lane = "car-out"
kind = "display"
driver = "voice"
command = [{sys.executable!r}, "-c", {SPEAKER!r}, {str(said)!r}, "{{text}}"]
"""
    )
    try:
        assert show(gw, "car-in", CAR, T0).admitted
        held = show(gw, "car-out", CAR, T0 + 3 * H)
        assert (held.reason, held.fee_fen) == ("payment_due", 900)
        assert _wait_said(said, 1) == ["临时车 请缴费 9元 苏E 1 2 3 4 5"]
        for k in (1, 2, 3):  # the camera's repeats of the car standing at the barrier, 15 s apart
            _again(gw, T0 + 3 * H + timedelta(seconds=15 * k))
        prompts = _wait_said(said, 2, within=2.0)
        assert len(prompts) == 1, (
            f"the driver at the barrier heard the same prompt {len(prompts)} times: {prompts}"
        )
        _again(gw, T0 + 4 * H + timedelta(minutes=1))  # still there an hour on: it owes more now
        prompts = _wait_said(said, 2)
        assert len(prompts) == 2 and prompts[1] != prompts[0] and "请缴费" in prompts[1], prompts
    finally:
        for display in gw.devices.lanes["car-out"].displays:
            display.close()
