"""What the lane's voice says of a plate (review s43special): its characters one by one."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.displays.voice import spoken
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import make_gw  # noqa: F401  (fixture)

SPEAKER = 'import sys; open(sys.argv[1], "a", encoding="utf-8").write(sys.argv[2])'


def test_voice_reads_the_plate_character_by_character(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
) -> None:
    """A stranger's car 苏E12345 comes in as a temporary car at a lane with a voice prompt (the
    docs' own example is espeak-ng -v cmn). The text handed to the speech command was
    "临时车 请入场 苏E12345": the serial went over as one number, which a Mandarin TTS speaks as
    "苏E 一万两千三百四十五" (espeak-ng -x shows 万/千/百), a police car's 苏A1234警 as "一千二百三十四
    警". A plate is read out character by character (苏E 1 2 3 4 5), as every Chinese car-park
    voice does: the driver hears his own plate."""
    said = tmp_path / "said.txt"
    extra = f"""
[[devices]]
id = "car-in-voice"
lane = "car-in"
kind = "display"
driver = "voice"
command = [{sys.executable!r}, "-c", {SPEAKER!r}, {str(said)!r}, "{{text}}"]
"""
    gw = make_gw(extra=extra)
    gw.start()
    try:
        p = Presented("car-in", "plate", "苏E12345", 0.99, gw.now(), "cam")
        ev = gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)
        assert ev.admitted and ev.reason == "temporary"
        deadline = time.monotonic() + 10
        while not said.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        text = said.read_text(encoding="utf-8").strip()
    finally:
        gw.stop()
    assert text == "临时车 请入场 苏E 1 2 3 4 5", text
    # The plate's digits are not one number to the speech engine.
    assert not re.search(r"\d{2,}", text), f"spoken as {text!r}"


@pytest.mark.parametrize(
    ("lines", "said"),
    [
        (["临时车 请入场", "苏E12345"], "临时车 请入场 苏E 1 2 3 4 5"),
        (["临时车 请缴费 12元", "京AD12345"], "临时车 请缴费 12元 京A D 1 2 3 4 5"),  # the fee stays a sum
        (["欢迎光临", "苏A1234警"], "欢迎光临 苏A 1 2 3 4警"),
        (["欢迎回家", "苏A1234应急"], "欢迎回家 苏A 1 2 3 4应急"),
        (["临时车 请入场", "WJ京12345"], "临时车 请入场 W J京1 2 3 4 5"),
        (["一路平安", "VA12345"], "一路平安 V A 1 2 3 4 5"),
        (["请通行"], "请通行"),
        (["Temporary vehicle", "使123456"], "Temporary vehicle 使1 2 3 4 5 6"),
    ],
)
def test_every_plate_is_spelt_and_nothing_else(lines: list[str], said: str) -> None:
    assert spoken(lines) == said
