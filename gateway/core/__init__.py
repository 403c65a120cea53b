"""The decision core: pure functions from a presented credential and the facts about it to a decision.

Nothing here touches serial ports, cameras, SQLite, MQTT or HTTP; time comes in as a parameter.
"""

from gateway.core.decide import decide
from gateway.core.model import (
    AGAIN,
    BUTTON,
    TYPED_BY,
    Billing,
    CredentialFacts,
    Decision,
    Facts,
    Holder,
    LaneRules,
    Policy,
    Presented,
    Reason,
    SlotFacts,
    VehicleFacts,
    ZoneFacts,
    vehicle_class_of,
)
from gateway.core.windows import ClosedPeriod, Validity, Window

__all__ = [
    "AGAIN",
    "BUTTON",
    "Billing",
    "ClosedPeriod",
    "CredentialFacts",
    "Decision",
    "Facts",
    "Holder",
    "LaneRules",
    "Policy",
    "Presented",
    "Reason",
    "SlotFacts",
    "TYPED_BY",
    "Validity",
    "VehicleFacts",
    "Window",
    "ZoneFacts",
    "decide",
    "vehicle_class_of",
]
