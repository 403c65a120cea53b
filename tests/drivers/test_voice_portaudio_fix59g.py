"""Review 59g: a working speaker shown offline (f8f6306). A speech program built on PortAudio (the
classic `espeak`, which voice.not_installed itself names as a packaged engine, or a site's own
Python script playing its wav through PyAudio / sounddevice) probes every PCM of ALSA's default
config as it opens the output, and alsa-lib writes "Unknown PCM cards.pcm.rear" / "unable to open
slave" lines for the ones this card does not have; the prompt is heard, the command exits 0. Any
"ALSA lib ... Unknown PCM ..." line was taken for a sound output that could not be opened: every
prompt put the device offline ("played nothing") with a device_offline alarm and a fix (usermod -aG
audio) that changed nothing. Proof by reviewer 59g."""

from __future__ import annotations

import sys

import pytest

from drivers.displays.voice import VoicePrompt, unheard_why
from tests.drivers.conftest import health, wait_for
from tests.drivers.test_voice_unheard_fix59c import NO_CARD, NOT_IN_AUDIO

# What PortAudio's device probe makes alsa-lib write on a Raspberry Pi whose speaker plays fine
# (pa_linux_alsa.c opens each PCM of the default config to list it), before the prompt is played.
PORTAUDIO_PROBE = """ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM cards.pcm.front
ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM cards.pcm.rear
ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM cards.pcm.center_lfe
ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM cards.pcm.side
ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM cards.pcm.surround21
ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM cards.pcm.iec958
ALSA lib confmisc.c:1281:(snd_func_refer) Unable to find definition 'cards.bcm2835_headpho.pcm.front.0:CARD=0'
ALSA lib conf.c:4745:(_snd_config_evaluate) function snd_func_refer returned error: No such file or directory
ALSA lib pcm_oss.c:377:(_snd_pcm_oss_open) Unknown field port
ALSA lib pcm_dmix.c:1032:(snd_pcm_dmix_open) unable to open slave
ALSA lib pcm_dsnoop.c:566:(snd_pcm_dsnoop_open) unable to open slave
"""


def _speaker_saying(stderr: str) -> list[str]:
    """A speech command that writes `stderr`, then plays the prompt: exits 0."""
    return [sys.executable, "-c", f"import sys; sys.stderr.write({stderr!r})", "{text}"]


def test_a_portaudio_speaker_that_plays_the_prompt_stays_online() -> None:
    voice = VoicePrompt(health("car-in-voice", "display"), _speaker_saying(PORTAUDIO_PROBE))
    try:
        assert voice.health.online
        voice.show(["欢迎回家", "皖A12345"])
        wait_for(lambda: voice.health.counters["prompts"] or voice.health.counters["failures"], "the prompt")
        assert voice.health.online, (
            f"a speaker that played the prompt shown offline: {voice.health.last_error}"
        )
        assert voice.health.counters["prompts"] == 1
    finally:
        voice.close()


@pytest.mark.parametrize("fault", [NO_CARD, NOT_IN_AUDIO], ids=["no sound card", "not in audio"])
def test_the_probe_does_not_hide_a_default_output_that_could_not_be_opened(fault: str) -> None:
    """After the probe, the default output's own error is the one the guard reads, with its fix."""
    voice = VoicePrompt(health("car-in-voice", "display"), _speaker_saying(PORTAUDIO_PROBE + fault))
    try:
        voice.show(["欢迎回家"])
        wait_for(lambda: voice.health.counters["failures"], "the prompt to finish")
        assert not voice.health.online and voice.health.counters["prompts"] == 0
        error = voice.health.last_error
        assert fault.splitlines()[0] in error and "cards.pcm" not in error
        assert "sudo usermod -aG audio estate-gateway" in error
    finally:
        voice.close()


@pytest.mark.parametrize(
    "line",
    [
        "ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default",
        "ALSA lib pcm_hw.c:1829:(_snd_pcm_hw_open) open '/dev/snd/pcmC0D0p' failed (2): "
        "No such file or directory",
        "audio open error: No such file or directory",
    ],
)
def test_each_default_output_error_alone_is_unheard(line: str) -> None:
    assert unheard_why(line + "\n") == line
