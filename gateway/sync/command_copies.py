"""The commands answered while the gateway runs, remembered so that a copy of one (the broker's
QoS 1 redelivery after a link drop, or after a kill before its PUBACK) is neither run nor answered
again: it was answered `ok`, then `replayed`, and the centre read the second (commands.py).
A copy is known by what the signature covers (command_verify.canonical), not by its bytes: whoever
captured a command could publish it again respaced, its signature still good, and each spelling
was a new command, refused and recorded again (past the limit on refusals), or run once valid.
Every content answered under an id is kept, not only the last: the centre may sign a command refused
`bad_args` again, corrected, under its id, and whoever captured both published them alternately,
each no longer the one remembered, each refused `expired` and recorded anew without bound.
A content never answered under an id used already is answered once (`replayed`, Commands.run):
the centre signed it again there (a `bad_args` for a lane the site does not have is answered after
the id is used), and waited for ever for an answer; past CONTENTS_PER_ID under that id, not."""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass

from gateway.sync.said_every import SaidEvery

log = logging.getLogger("gateway.sync.commands")

# Commands answered while the gateway runs, remembered by id (the latest so many), even once
# expired. Far more than the centre's commands in flight; an older one's id is still found on
# record (command_answers._answered_on_record).
ANSWERS_REMEMBERED = 1000
# Contents answered under one id that are remembered (the latest so many): the centre signs an id
# again only after a refusal, corrected, a few times at most. Under an id used, a content not
# among them is answered `replayed` only while there is room for it here, so that whoever captured
# them gets no more answers than this by publishing them in turn; past them, it is a copy.
CONTENTS_PER_ID = 8


def digest(content: bytes) -> bytes:
    """What a copy is known by: the sha256 of what its signature covers (command_verify.canonical)."""
    return hashlib.sha256(content).digest()


@dataclass(slots=True)
class _Answered:
    digests: list[bytes]  # of the contents answered under the id, oldest first
    used: bool  # run, or refused `replayed`, `not_yet_valid` or `expired`: never unused again


class AnsweredCommands:
    def __init__(self) -> None:
        # By id: what was answered under it, and whether the id was used. Refused otherwise, its id
        # is not used: the centre may sign it again corrected, and only a content answered under it
        # is a copy (until the id is used: then any command signed under it is, Commands.run).
        self._answered: OrderedDict[str, _Answered] = OrderedDict()
        self._said = SaidEvery()  # a copy said at INFO once a minute, the others at DEBUG

    def remember(self, cid: str, content: bytes, used: bool) -> None:
        """The command answered (or its answer kept in memory): a copy of it is not answered again.
        `content`: what its signature covers (command_verify.canonical)."""
        its = digest(content)
        known = self._answered.setdefault(cid, _Answered([], used=False))
        if its not in known.digests:
            known.digests.append(its)
            del known.digests[:-CONTENTS_PER_ID]
        known.used = known.used or used
        self._answered.move_to_end(cid)
        while len(self._answered) > ANSWERS_REMEMBERED:
            self._answered.popitem(last=False)

    def same_command(self, cid: str, content: bytes) -> bool:
        """Whether `content` is that of a command answered under `cid`, expired or not."""
        known = self._answered.get(cid)
        return known is not None and digest(content) in known.digests

    def room_under(self, cid: str) -> bool:
        """Whether one more content answered under `cid` is remembered without letting go of one."""
        known = self._answered.get(cid)
        return known is None or len(known.digests) < CONTENTS_PER_ID

    def used(self, cid: str) -> bool:
        """Whether the signed id `cid` was used while the gateway runs (run, or refused `replayed`,
        `not_yet_valid` or `expired`)."""
        known = self._answered.get(cid)
        return known is not None and known.used

    def say(self, cid: str, why: str, now: float | None = None) -> None:
        """A copy of a command answered: the centre has its one answer, or gets it once storage
        takes it. Said at INFO once a minute at most, with how many were not said since: a
        reconnect delivers again every command not acknowledged at once."""
        unsaid = self._said.due(now)
        if unsaid is None:
            log.debug("remote command id=%s received again, %s: not run or answered again", cid, why)
            return
        log.info(
            "remote command id=%s received again (a broker's copy), %s: not run or answered again "
            "(and %d other copies since the last such line)",
            cid,
            why,
            unsaid,
        )
