"""What a remote command is, and how one is verified (commands.py): signed with the gateway's key
over its canonical form, for this site, alive now, naming a command this gateway knows and its args."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gateway.privacy import mask_numbers_in
from gateway.sync.messages import quoted, read_json
from gateway.timefmt import later

COMMANDS: dict[str, tuple[set[str], set[str]]] = {  # name: (required args, optional args)
    "open_lane": ({"lane"}, {"reason"}),
    "set_lane_mode": ({"lane", "mode"}, {"reason"}),
    "resync": (set(), {"reason"}),
    "send_again": ({"seqs"}, {"reason"}),
    "acknowledge_alarm": ({"alarm_id"}, {"note", "alarm_stream"}),
}
# Args the centre's operator types: a phone number in them is masked from the start (verify), so
# that the command_accepted row (kept 365 days) and the journal never hold it in clear either.
_TYPED = frozenset({"reason", "note"})
_SIG = re.compile(r"[0-9a-fA-F]{64}")
_ID = re.compile(r"[!-~]{8,64}")  # printable ASCII without spaces, as a UUID is


class CommandRefused(Exception):
    """A command refused, with the code its reply names. `verified`: refused after its signature
    was found good (the central server's own command, answered whatever the flood of others).
    `expires_at`: a signed command refused for its time alone (`not_yet_valid`, `expired`), which
    the box's clock set right could take as valid: its id is kept as used until then (and the
    clock skew), so that a copy of it never runs after the centre was answered that it did not.
    `fix`: what the centre is to do, sent with the reply as a `bad_args` one's is."""

    def __init__(
        self,
        code: str,
        message: str,
        command_id: str | None = None,
        name: str | None = None,
        *,
        verified: bool = False,
        expires_at: datetime | None = None,
        fix: str | None = None,
    ):
        self.code = code
        self.message = message
        self.command_id = command_id
        self.name = name
        self.verified = verified
        self.expires_at = expires_at
        self.fix = fix
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True, slots=True)
class Command:
    id: str
    name: str
    args: dict[str, str]
    actor: str
    issued_at: datetime
    expires_at: datetime

    def goes_ahead_unrecorded(self, needs_record: Callable[[str, str], bool]) -> bool:
        """Done while storage takes no writes, as a guard's by hand is (hand_lanes.py): a single
        opening, and set_lane_mode normal where it lets a held lane down. `needs_record`
        (HandLanes.needs_record) says which lane modes need their record first: a closed lane's
        reopening does, and fails without it."""
        if self.name == "open_lane":
            return True
        if self.name != "set_lane_mode":
            return False
        return not needs_record(self.args.get("lane", ""), self.args.get("mode", ""))


def canonical(body: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in body.items() if k != "sig"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(body: dict[str, Any], key: bytes) -> dict[str, Any]:
    """The body with its "sig": what the central server does before publishing a command."""
    return {**body, "sig": hmac.new(key, canonical(body), hashlib.sha256).hexdigest()}


def verify(data: bytes, key: bytes | None, site: str, now: datetime, max_age_s: int, skew_s: int) -> Command:
    """The command, if it is well formed, signed with our key, for this site and alive now."""
    try:
        body = read_json(data)
    except ValueError as exc:
        raise CommandRefused("malformed", str(exc)) from None
    if not isinstance(body, dict):
        raise CommandRefused("malformed", "not a JSON object")
    cid, name = _addressed(body)
    signed = False  # True once the signature is found good: read when a refusal is made

    def refuse(code: str, message: str, expires_at: datetime | None = None) -> CommandRefused:
        return CommandRefused(code, message, cid, name, verified=signed, expires_at=expires_at)

    if body.get("v") != 1 or body.get("type") != "command":
        raise refuse("malformed", "expected v=1 and type=command")
    if cid is None:
        raise refuse("malformed", "id must be 8 to 64 printable ASCII characters without spaces")
    sig = body.get("sig")
    if not isinstance(sig, str) or not sig:
        raise refuse("unsigned", "the command carries no signature")
    if key is None:
        raise refuse("no_key", "this gateway has no command key; it accepts no remote command")
    if not _SIG.fullmatch(sig):  # checked first: compare_digest raises on non-ASCII text
        raise refuse(
            "bad_signature", "sig must be 64 hex characters: the HMAC-SHA256 that docs/mqtt.md describes"
        )
    try:
        expected = hmac.new(key, canonical(body), hashlib.sha256).hexdigest()
    except RecursionError:  # read just below the limit, written again just above it
        raise refuse("malformed", "nested too deep") from None
    if not hmac.compare_digest(expected, sig.lower()):
        raise refuse("bad_signature", "the signature does not match this gateway's key")
    # Signed by the holder of our key from here on; still check that it is for us and for now.
    signed = True
    if body.get("site") != site:
        raise refuse("wrong_site", f"the command is for site {quoted(body.get('site'))}, this is {site!r}")
    issued, expires = _time(body, "issued_at", refuse), _time(body, "expires_at", refuse)
    if expires <= issued or expires - issued > timedelta(seconds=max_age_s):
        raise refuse("bad_lifetime", f"a command lives more than 0 and at most {max_age_s} s")
    skew = timedelta(seconds=skew_s)
    if issued > later(now, skew):
        raise refuse("not_yet_valid", f"issued at {issued.isoformat()}, in the future", expires)
    if now > expires + skew:
        raise refuse("expired", f"expired at {expires.isoformat()}", expires)
    if name is None:
        raise refuse("unknown_command", f"{quoted(body.get('name'))} is not one of {sorted(COMMANDS)}")
    args = body.get("args", {})
    required, optional = COMMANDS[name]
    if not isinstance(args, dict) or not all(isinstance(v, str) for v in args.values()):
        raise refuse("bad_args", "args must be an object of text values")
    if not required <= set(args) <= required | optional:
        raise refuse("bad_args", f"{name} takes {sorted(required)} and optionally {sorted(optional)}")
    actor = body.get("actor") if isinstance(body.get("actor"), str) else "central"
    typed = {key: mask_numbers_in(value) if key in _TYPED else value for key, value in args.items()}
    return Command(cid, name, typed, f"central:{actor}"[:80], issued, expires)


def _addressed(body: Any) -> tuple[str | None, str | None]:
    """The id and name a reply names: the id only if it is one, the name only if it is one of
    COMMANDS. Both come from whoever published, before any signature is checked."""
    if not isinstance(body, dict):
        return None, None
    cid, name = body.get("id"), body.get("name")
    return (
        cid if isinstance(cid, str) and _ID.fullmatch(cid) else None,
        name if isinstance(name, str) and name in COMMANDS else None,
    )


def _address_of(payload: bytes) -> tuple[str | None, str | None, bytes]:
    """The id and name a reply names (_addressed), and what a signature covers (canonical), by
    which a copy is known: respaced, or its keys in another order, it is the same command. The
    bytes themselves where there is no JSON object."""
    try:
        body = read_json(payload)
        content = canonical(body) if isinstance(body, dict) else payload
    except (ValueError, RecursionError):  # RecursionError: read just below the limit
        return None, None, payload
    return (*_addressed(body), content)


def _time(body: dict[str, Any], name: str, refuse: Any) -> datetime:
    try:
        value = datetime.fromisoformat(body[name])
    except (KeyError, TypeError, ValueError):
        raise refuse("malformed", f"{name} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise refuse("malformed", f"{name} has no time zone")
    return value
