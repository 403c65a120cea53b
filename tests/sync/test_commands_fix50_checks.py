"""Remote command checks no other test pinned down: a change to any of them went unnoticed (review
50h, by mutation). verify() is what the gateway runs on every command."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.sync.commands import CommandRefused, sign, verify

KEY = b"k" * 32
SITE = "sunshine-north"
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 11, 21, 7, 2, 1, tzinfo=TZ)


def body(
    life: int = 60, args: dict[str, str] | None = None, cid: str = "3f1c2a9e-5b7d-4e0a-9c3b-1d2e3f4a5b6c"
) -> dict[str, Any]:
    """Keys in the order docs/mqtt.md's example has them (not sorted)."""
    return {
        "v": 1,
        "type": "command",
        "id": cid,
        "site": SITE,
        "name": "open_lane",
        "args": args if args is not None else {"lane": "car-in", "reason": "visitor without QR"},
        "actor": "zhang.wei",
        "issued_at": NOW.isoformat(),
        "expires_at": (NOW + timedelta(seconds=life)).isoformat(),
    }


def check(b: dict[str, Any]) -> str:
    """The refusal code, or "ok"."""
    try:
        verify(json.dumps(b, ensure_ascii=False).encode(), KEY, SITE, NOW, max_age_s=300, skew_s=60)
    except CommandRefused as exc:
        return exc.code
    return "ok"


def test_a_command_signed_as_docs_mqtt_md_says_is_accepted() -> None:
    """The central server signs as docs/mqtt.md
    says, HMAC-SHA256 of the command without `sig`, keys sorted, no spaces, UTF-8; its command,
    published with its keys in its own order, must open the gate, not be refused bad_signature."""
    b = body()
    canonical = json.dumps(b, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    b["sig"] = hmac.new(KEY, canonical, hashlib.sha256).hexdigest()
    assert check(b) == "ok"


def test_a_command_living_longer_than_command_max_age_is_refused() -> None:
    """A command may live at most
    command_max_age_s (300 s, docs/mqtt.md): one signed to live 330 s, a longer window for a
    captured copy, must be refused bad_lifetime; one living exactly 300 s is accepted."""
    assert check(sign(body(life=330), KEY)) == "bad_lifetime"
    assert check(sign(body(life=300), KEY)) == "ok"


def test_a_command_with_an_argument_it_does_not_take_is_refused() -> None:
    """open_lane takes `lane` and optionally `reason`
    (docs/mqtt.md): the centre's command with a misspelt argument (`reasons`) must be answered
    bad_args, telling it what the command takes, not run as if it were right."""
    b = sign(body(args={"lane": "car-in", "reasons": "visitor"}), KEY)
    assert check(b) == "bad_args"


@pytest.mark.parametrize("cid", ["1234567", "a"])
def test_a_command_id_shorter_than_eight_characters_is_malformed(cid: str) -> None:
    """docs/mqtt.md: "The `id` is 8 to 64 printable ASCII
    characters without spaces ... anything else is `malformed`"."""
    assert check(sign(body(cid=cid), KEY)) == "malformed"
