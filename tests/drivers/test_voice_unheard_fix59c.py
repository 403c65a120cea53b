"""Voice prompts nobody hears (review 59c). espeak-ng (as docs/hardware.md and
config/example-estate.toml give it) exits 0 when it cannot open the sound card, ALSA's errors on
stderr only: the device stayed online and counted `prompts` while the barrier was silent. And the
service's user may not open the card at all: /dev/snd/* are root:audio 0660 on Raspberry Pi OS,
and neither README's useradd nor the unit put it in `audio`."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from drivers.displays.voice import VoicePrompt
from tests.drivers.conftest import health, wait_for
from tests.test_unit_sandbox import _service

REPO = Path(__file__).resolve().parents[2]

NO_CARD = """ALSA lib confmisc.c:855:(parse_card) cannot find card '0'
ALSA lib conf.c:5180:(_snd_config_evaluate) function snd_func_card_inum returned error: No such file or dir
ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default
error: No such file or directory
"""
NOT_IN_AUDIO = (
    "ALSA lib pcm_hw.c:1829:(_snd_pcm_hw_open) open '/dev/snd/pcmC0D0p' failed (13): Permission denied"
)
CHATTER = (
    "Full dictionary is not installed for 'cmn'\nALSA lib pcm.c:8526:(snd_pcm_recover) underrun occurred"
)


def speaker_saying(stderr: str) -> list[str]:
    """A speech command that writes `stderr` and exits 0, as espeak-ng does."""
    return [sys.executable, "-c", f"import sys; sys.stderr.write({stderr!r})", "{text}"]


@pytest.mark.parametrize("stderr", [NO_CARD, NOT_IN_AUDIO], ids=["no sound card", "not in audio"])
def test_a_prompt_that_exits_0_but_could_not_open_the_sound_card_is_a_fault(stderr: str) -> None:
    voice = VoicePrompt(health("car-in-voice", "display"), speaker_saying(stderr))
    try:
        voice.show(["欢迎回家"])
        wait_for(lambda: voice.health.counters["failures"], "the prompt to finish")
        assert not voice.health.online
        assert voice.health.counters["prompts"] == 0
        error = voice.health.last_error
        assert stderr.splitlines()[0] in error  # what ALSA said, on the guard's health page
        assert "sudo usermod -aG audio estate-gateway" in error and "aplay -l" in error
    finally:
        voice.close()


def test_harmless_chatter_on_stderr_keeps_the_device_online() -> None:
    voice = VoicePrompt(health("car-in-voice", "display"), speaker_saying(CHATTER))
    try:
        voice.show(["欢迎回家"])
        wait_for(lambda: voice.health.counters["prompts"] == 1, "the prompt to finish")
        assert voice.health.online and voice.health.counters["failures"] == 0
    finally:
        voice.close()


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None or Path("/dev/snd").exists(),
    reason="needs espeak-ng (apt install espeak-ng) on a box with no sound card",
)
def test_real_espeak_ng_with_no_sound_card_is_not_shown_online() -> None:
    voice = VoicePrompt(health("car-in-voice", "display"), ["espeak-ng", "-v", "cmn", "{text}"])
    try:
        voice.show(["欢迎回家"])
        wait_for(lambda: voice.health.counters["prompts"] or voice.health.counters["failures"], "espeak-ng")
        assert not voice.health.online, f"shown online though nothing was heard ({voice.health.counters})"
        assert "ALSA lib" in voice.health.last_error
    finally:
        voice.close()


def test_the_service_user_may_play_the_prompts_the_example_configures() -> None:
    example = (REPO / "config" / "example-estate.toml").read_text(encoding="utf-8")
    assert 'driver = "voice"' in example
    groups = " ".join(_service()["SupplementaryGroups"]).split()
    assert "audio" in groups, "the unit's SupplementaryGroups lack audio: espeak-ng cannot open /dev/snd"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    useradd = next(line for line in readme.splitlines() if line.startswith("sudo useradd "))
    assert "audio" in useradd.split("--groups ")[1].split()[0].split(",")
