"""Values quoted into error messages, cut short: one rule for a CSV import and the central server's pushes.

A value pushed or imported may be any length (a plate of 100 characters, a date sent as 300 kB of
text), and its error goes back to the central server in one MQTT message (docs/mqtt.md, `sync_error`:
"cut short past 80 characters, ending in `…`"), into the log and onto the installer's screen. A
phone or ID number is never quoted at all (gateway/sync/entries.py, _PERSONAL).

Imports nothing of the gateway, so that gateway/store/ and gateway/sync/ both may use it.
"""

from __future__ import annotations

from typing import Any

QUOTED_CHARS = 80


def cut(text: str) -> str:
    """The text, cut short ("…") past QUOTED_CHARS characters."""
    return text if len(text) <= QUOTED_CHARS else text[: QUOTED_CHARS - 1] + "…"


def quoted(value: Any) -> str:
    """repr(value) for an error message, cut short past QUOTED_CHARS characters."""
    return cut(repr(value))


def requoted(message: str, value: str) -> str:
    """A message made elsewhere (gateway.timefmt, gateway.core.credentials) that quotes `value`
    whole with repr, with that quote cut as quoted() cuts it."""
    return message.replace(repr(value), quoted(value))
