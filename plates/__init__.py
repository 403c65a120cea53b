"""Chinese licence-plate detection and recognition for the estate gateway.

Public API: Recognizer, Reading, LaneVoter, LaneDecision, PlateMatcher, Policy, Match.
Imported lazily so that `plates.grammar` stays cheap for the gateway; torch is never needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plates.lane import LaneDecision, LaneVoter
    from plates.matcher import Match, PlateMatcher, Policy
    from plates.reading import Reading
    from plates.recognizer import Recognizer

__all__ = ["LaneDecision", "LaneVoter", "Match", "PlateMatcher", "Policy", "Reading", "Recognizer"]

_WHERE = {
    "LaneDecision": "plates.lane",
    "LaneVoter": "plates.lane",
    "Match": "plates.matcher",
    "PlateMatcher": "plates.matcher",
    "Policy": "plates.matcher",
    "Reading": "plates.reading",
    "Recognizer": "plates.recognizer",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'plates' has no attribute {name!r}")
