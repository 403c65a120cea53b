"""The lane's voice at the entrance tells the driver of a car with no plate its ticket number, the
one he must give back at the exit: spoken as a number, 0303 is 三百零三 and 07 is 七."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from drivers.displays.voice import spoken
from gateway.runtime.gateway import Gateway
from tests.parking.test_api import serving
from tests.parking.test_no_plate_car import TICKET_1, Site

SPEAKER = 'import sys; open(sys.argv[1], "a", encoding="utf-8").write(sys.argv[2])'


def test_voice_spells_the_ticket_given_at_the_entrance(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """docs/hardware.md, *Voice prompts*: "a plate in them is spelt apart ... A Mandarin engine says
    a run of digits as one number (espeak-ng: 苏E 一万二千三百四十五), and drivers know their plate
    by its characters"; docs/parking.md: the ticket "is then the car's plate everywhere". The guard
    taps 无牌车 at an entrance with a voice prompt: the text handed to the speech command is
    "无牌车 请入场 无牌-0303-01", its serial one number to the engine (0303 as 三百零三), not the
    digits the driver must write down and give back at the exit."""
    said = tmp_path / "said.txt"
    extra = f"""
[[devices]]
id = "car-in-voice"
lane = "car-in"
kind = "display"
driver = "voice"
command = [{sys.executable!r}, "-c", {SPEAKER!r}, {str(said)!r}, "{{text}}"]
"""
    with serving(make_gw(extra=extra)) as served:
        s = Site(*served)
        came = s.typed("car-in", {"no_plate": True}).json()
        assert came["plate"] == TICKET_1 and came["admitted"], came
        deadline = time.monotonic() + 10
        while not said.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        text = said.read_text(encoding="utf-8").strip()
    assert text.startswith("无牌车 请入场"), text
    assert not re.search(r"\d{2,}", text), f"the ticket's digits are spoken as numbers: {text!r}"
    assert re.sub(r"\D", "", text) == "030301", text


def test_voice_spells_the_ticket_of_a_car_held_to_pay() -> None:
    """At the exit the display reads 无牌车 请缴费 7元 / 无牌-0303-07: the fee stays a sum, the
    ticket is spelt apart, as a plate is."""
    text = spoken(["无牌车 请缴费 7元", "无牌-0303-07"])
    assert text.startswith("无牌车 请缴费 7元 "), text
    ticket = text[len("无牌车 请缴费 7元 ") :]
    assert not re.search(r"\d{2,}", ticket), f"the ticket's digits are spoken as numbers: {text!r}"
