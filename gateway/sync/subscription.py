"""The link's subscription to the centre's topics, and what to say when the broker refuses part
of it (its SUBACK): the snapshots, deltas or commands on a refused topic never reach this gateway,
with nothing else going wrong that anyone would see. Told once at ERROR with its fix, on
/api/health while it lasts, and asked again a while later (the installer may fix the ACL: mosquitto
reloads it on SIGHUP) and at every connect."""

from __future__ import annotations

import logging
import time

from gateway.sync.client import Subscribed
from gateway.sync.errors import puback_text
from gateway.sync.retained import Over
from gateway.sync.topics import Topics

log = logging.getLogger(__name__)

ASK_AGAIN_S = 600.0  # a refused subscription is asked for again after this long

_CARRIES = {"snapshot": "register snapshots", "delta": "register changes", "command": "commands"}


class Subscription:
    def __init__(self, topics: Topics):
        self.topics = topics
        self.refused: list[str] = []
        self._told: str | None = None  # the text shown for the refusal in force
        self._told_at = 0.0
        self._ask_at: float | None = None

    def answered(self, ev: Subscribed) -> str | Over | None:
        """The broker's SUBACK: the refusal to show (logged the first time), that the one shown is
        over, or None."""
        if not ev.refused:
            self.refused, self._ask_at = [], None
            told, self._told = self._told, None
            if told is None:
                return None
            log.info("the broker lets this gateway subscribe to the centre's topics again")
            return Over(told)
        self.refused = [topic for topic, _ in ev.refused]
        self._ask_at = time.monotonic() + ASK_AGAIN_S
        return self._tell(ev.refused)

    def asked_at_connect(self) -> None:
        """A connect subscribes to every topic: nothing is asked again until its SUBACK says."""
        self._ask_at = None

    def standing(self) -> list[tuple[float, str]]:
        """The refusal in force, as it was shown, and when (for the link's _over)."""
        return [] if self._told is None else [(self._told_at, self._told)]

    def due(self) -> list[str]:
        """The refused topics to ask for again now, if it is time."""
        if self._ask_at is None or time.monotonic() < self._ask_at:
            return []
        self._ask_at = None  # the next SUBACK sets it again
        return list(self.refused)

    def _tell(self, refused: tuple[tuple[str, int], ...]) -> str:
        topics = ", ".join(topic for topic, _ in refused)
        lost = ", ".join(_CARRIES.get(self.topics.kind_of(topic) or "", topic) for topic, _ in refused)
        reasons = "; ".join(f"{topic}: {puback_text(code)}" for topic, code in refused)
        text = (
            f"the broker refuses this gateway's subscription to {topics} ({reasons}): the centre's "
            f"{lost} do not reach this gateway; asked again every {ASK_AGAIN_S / 60:.0f} min and "
            "at every connect"
        )
        fix = "let this gateway's account read " + topics + " in the broker's ACL (mosquitto: "
        fix += ", ".join(f"topic read {topic}" for topic, _ in refused) + ")"
        shown = f"{text}; fix: {fix}"
        if shown != self._told:
            log.error("%s fix=%s", text, fix)
        self._told, self._told_at = shown, time.time()
        return shown
