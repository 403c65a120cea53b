"""Voice prompts through a configured command (a TTS player such as espeak-ng or a vendor tool).

The command runs without a shell, with {text} replaced by the message, on the prompt's own
thread so that a decision never waits for speech. A newer prompt stops one still speaking: the
driver at the barrier needs the current message, not a queue of old ones.

A plate in the lines is spelt apart (spoken): a Mandarin engine says a run of digits as one number.
So is the ticket of a car with no plate (无牌-0303-07), which its driver must give back at the exit.

A prompt nobody hears is a fault, though the command said nothing went wrong: espeak-ng exits 0
when it cannot open the sound card (no card, or /dev/snd/* root:audio 0660 and the service's user
not in `audio`), with ALSA's errors on stderr only.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import threading

from drivers.health import DeviceHealth
from gateway.core.tickets import as_ticket
from plates.grammar import is_plate

log = logging.getLogger(__name__)

# Between two letters or digits of a plate. A Chinese character needs no space: the engine takes
# the change of script as a word break (espeak-ng says 苏E and 苏 E alike), and 应急 stays a word.
_ASCII_PAIR = re.compile(r"(?<=[0-9A-Z])(?=[0-9A-Z])")

# The default sound output that could not be opened, as alsa-lib ("ALSA lib confmisc.c:855:
# (parse_card) cannot find card '0'", "... Unknown PCM default", "... open '/dev/snd/pcmC0D0p' failed
# (13): Permission denied"), espeak-ng/pcaudiolib and aplay ("audio open error") write it. Not the
# lines of a PortAudio program's probe (classic espeak, PyAudio, sounddevice): it opens every PCM of
# ALSA's config to list it, and alsa-lib writes "Unknown PCM cards.pcm.rear", "unable to open slave",
# "Unable to find definition 'cards.…'" for those this card lacks, then the prompt plays (Review
# 59g). Nor ALSA's "underrun occurred" (a prompt heard with a crackle), nor an engine's own chatter
# ("Full dictionary is not installed for 'cmn'"): the prompt is heard, the device stays online.
_UNHEARD = re.compile(
    r"^ALSA lib .*(cannot find card|unknown pcm default$|/dev/snd/.*(permission denied|no such file))"
    r"|audio open error|could not open audio|cannot open audio",
    re.IGNORECASE,
)
SOUND_FIX = (
    "add the service's user to the audio group (sudo usermod -aG audio estate-gateway, as README's "
    "useradd and the unit's SupplementaryGroups do) and restart it, or check the sound output "
    "(aplay -l lists the cards: a speaker plugged in?)"
)


def spoken(lines: list[str]) -> str:
    """The lines as one message for the speech command, each plate in them spelt apart.

    espeak-ng -v cmn (and any Mandarin engine) says 苏E12345 as 苏E 一万二千三百四十五 and 苏A1234警
    as 一千二百三十四 警; drivers know their plate by its characters, as every car-park voice reads
    it, so it goes over as 苏E 1 2 3 4 5 (京A D 1 2 3 4 5: AD is no word). The digits stay
    digits, each said by its name: espeak-ng 1.51's cmn voice says a lone 1 as yī, but 幺 and the
    characters 一二三 in an English voice, as pinyin and tone number. A fee (12元) is no plate and
    stays a sum. A ticket (无牌-0303-07, or 无牌030307 as a narrow LED has it) is spelt apart too:
    said as numbers, 0303 is 三百零三 and 07 is 七, not what the paper ticket reads."""
    words = " ".join(line for line in lines if line).split(" ")
    return " ".join(_spelt(w) for w in words)


def _spelt(word: str) -> str:
    """A plate or a ticket spelt apart; any other word as it is."""
    if is_plate(word):
        return _ASCII_PAIR.sub(" ", word)
    ticket = as_ticket(word) if word.startswith("无牌") else None
    if ticket is None:
        return word
    # 无牌 0 3 0 3，0 7: a Chinese comma, a pause, where the paper ticket has its dash (an engine
    # may read a dash out, as 减 minus, or run the two numbers together).
    _, day, number = ticket.split("-")
    return f"无牌 {' '.join(day)}，{' '.join(number)}"


class VoicePrompt:
    def __init__(self, health: DeviceHealth, command: list[str], timeout_s: float = 10.0):
        self.health = health
        self._command = command
        self._timeout_s = timeout_s
        self._cond = threading.Condition()
        self._pending: str | None = None
        self._running: subprocess.Popen[bytes] | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"voice-{health.device}", daemon=True)
        self._thread.start()
        missing = not_installed(command)
        if missing is None:
            health.set_online()
        else:  # said now, not at the first car's prompt
            health.set_offline(missing)

    def show(self, lines: list[str]) -> None:
        text = spoken(lines)
        with self._cond:
            self._pending = text
            if self._running is not None and self._running.poll() is None:
                self._running.terminate()
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            if self._running is not None and self._running.poll() is None:
                self._running.terminate()
            self._cond.notify()
        self._thread.join(timeout=3)

    def argv(self, text: str) -> list[str]:
        return [arg.replace("{text}", text) for arg in self._command]

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed or self._pending is None:
                    return
                text, self._pending = self._pending, None
                try:
                    self._running = subprocess.Popen(
                        self.argv(text),
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                    )
                except OSError as exc:
                    self.health.set_offline(
                        f"cannot run {self._command[0]}: {exc.strerror}; install it "
                        "(e.g. apt install espeak-ng) or fix the device's command"
                    )
                    continue
                proc = self._running
            self._finish(proc)

    def _finish(self, proc: subprocess.Popen[bytes]) -> None:
        try:
            _, err = proc.communicate(timeout=self._timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            self.health.count("timeouts")
            return
        unheard = unheard_why(err.decode(errors="replace")) if proc.returncode == 0 else None
        if unheard is not None:
            self.health.count("failures")
            self.health.set_offline(f"{self._command[0]} played nothing: {unheard}; {SOUND_FIX}")
        elif proc.returncode == 0:
            self.health.count("prompts")
            self.health.set_online()
        elif proc.returncode > 0:  # negative: we stopped it for a newer prompt
            self.health.count("failures")
            self.health.set_offline(
                f"{self._command[0]} exited {proc.returncode}: {err.decode(errors='replace').strip()[:200]}"
            )


def not_installed(command: list[str]) -> str | None:
    """That the command's program is not on this box (not found on PATH, as `gateway check-config`
    and the start look for it), with the fix; None when it is."""
    program = command[0]
    if shutil.which(program) is not None:
        return None
    name = program.rpartition("/")[2]
    packaged = name in ("espeak-ng", "espeak")
    fix = f"sudo apt install {name}" if packaged else "install it, or fix the device's command"
    return f"{program} is not installed here: {fix}"


def unheard_why(stderr: str) -> str | None:
    """The lines of a speech command's stderr that say its default sound output could not be opened
    (the first two unlike: "cannot find card '0'", "Unknown PCM default"); None when none do."""
    lines = dict.fromkeys(line.strip() for line in stderr.splitlines() if _UNHEARD.search(line.strip()))
    return "; ".join(list(lines)[:2])[:300] or None
