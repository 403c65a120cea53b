"""Lane displays over a real pty, and voice prompts through a real command."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from drivers.displays.serial_text import SerialTextDisplay, display_bytes
from drivers.displays.voice import VoicePrompt
from tests.drivers.conftest import PtyDevice, health, wait_for


def test_display_bytes_are_gb_encoded_lines() -> None:
    assert display_bytes(["欢迎回家", "皖A12345"]) == "欢迎回家\r\n皖A12345\r\n".encode("gb18030")
    wrapped = display_bytes(["临时车 请缴费 10元"], "gb2312", "lf", width=3)  # the fee is not cut off
    assert wrapped == "临时车\n请缴费\n10元\n".encode("gb2312")
    assert display_bytes(["ok 😀"], "gb2312", "cr") == b"ok ?\r"  # the display has no such glyph
    assert display_bytes(["a\r\nb"], "utf-8", "lf") == b"a  b\n"  # one message line stays one line


def test_serial_display_on_a_pty(pty_device: Callable[[str], PtyDevice]) -> None:
    panel = pty_device("ttyUSB-led")
    display = SerialTextDisplay(health("led", "display"), panel.path, 9600, "gbk", "crlf")
    try:
        display.show(["无车位 禁止入内", "皖A12345"])
        expected = "无车位 禁止入内\r\n皖A12345\r\n".encode("gbk")
        assert panel.read(len(expected)) == expected
        assert display.health.counters["shown"] == 1
    finally:
        display.close()


def test_serial_display_unplugged_fails_loudly_and_recovers(pty_device: Callable[[str], PtyDevice]) -> None:
    panel = pty_device("ttyUSB-led")
    display = SerialTextDisplay(health("led", "display"), panel.path, reconnect_max_s=0.2)
    try:
        panel.unplug()
        wait_for(lambda: not display.health.online, "the display to be missed")
        try:
            display.show(["欢迎光临"])
            raise AssertionError("show() on a missing display must fail")
        except OSError as exc:
            assert "unplugged" in str(exc)
        panel.plug()
        wait_for(lambda: display.health.online, "the display back")
        display.show(["欢迎光临"])
        assert panel.read(len("欢迎光临\r\n".encode("gb18030"))) == "欢迎光临\r\n".encode("gb18030")
    finally:
        display.close()


SPEAKER = """
import sys, time
open(sys.argv[1], "a", encoding="utf-8").write(sys.argv[2] + "\\n")
if sys.argv[2] == "long":
    time.sleep(60)
"""


def speaker(said: Path) -> list[str]:
    return [sys.executable, "-c", SPEAKER, str(said), "{text}"]


def spoken(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_voice_prompt_runs_the_command_with_the_text(tmp_path: Path) -> None:
    said = tmp_path / "said.txt"
    voice = VoicePrompt(health("voice", "display"), speaker(said))
    try:
        voice.show(["临时车 请缴费", "10元"])
        wait_for(lambda: voice.health.counters["prompts"] == 1, "the prompt to finish")
        assert spoken(said) == ["临时车 请缴费 10元"]
    finally:
        voice.close()


def test_a_newer_prompt_cuts_the_one_still_speaking(tmp_path: Path) -> None:
    said = tmp_path / "said.txt"
    voice = VoicePrompt(health("voice", "display"), speaker(said))
    try:
        voice.show(["long"])
        wait_for(lambda: spoken(said) == ["long"], "the long prompt to start")
        voice.show(["欢迎回家"])
        wait_for(lambda: voice.health.counters["prompts"] == 1, "the new prompt to finish")
        assert spoken(said) == ["long", "欢迎回家"]
        assert voice.health.online and voice.health.counters["failures"] == 0
    finally:
        voice.close()


def test_a_missing_voice_command_says_how_to_fix_it(tmp_path: Path) -> None:
    voice = VoicePrompt(health("voice", "display"), [str(tmp_path / "no-such-tts"), "{text}"])
    try:
        voice.show(["欢迎回家"])
        wait_for(lambda: not voice.health.online, "the failure")
        assert "install it" in voice.health.last_error
    finally:
        voice.close()
