"""AccessEvent: one decision as the rest of the gateway sees it (log, outbox, lanes, guard pages)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from gateway.core import Decision, Facts, Presented
from gateway.ids import uuid7
from gateway.store.lookup import subject_of


def sent_value(kind: str, value: str) -> str | None:
    """A credential's value as it goes upstream. A pass's QR token opens the door to whoever holds
    it while the pass lasts, so it never leaves the gateway: records name the pass by its id."""
    return None if kind == "qr" else value


@dataclass(frozen=True, slots=True)
class AccessEvent:
    event_id: str
    at: datetime
    lane: str
    device: str
    kind: str
    value: str
    confidence: float
    admitted: bool
    reason: str
    billing: str | None
    flags: tuple[str, ...]
    subject: str
    holder_kind: str | None
    holder_id: int | None
    # The centre's key of the holder (a resident's ref, a pass's it sent down): None for a pass
    # registered at the booth, or a holder the register has forgotten since.
    holder_ref: str | None
    holder_name: str  # masked
    building: str
    unit: str
    vehicle_id: int | None
    vehicle_class: str
    plate: str | None
    slot_id: int | None
    zone: str | None
    snapshot: str | None = None
    fee_fen: int = 0  # fen the driver is asked to pay at an exit (reason payment_due)
    # The lane as configured at this decision, as the access log keeps it: the centre counts the
    # daily report's entries and exits by them, whatever the lane is called or later renamed to.
    direction: str = ""  # entrance or exit
    lane_type: str = ""  # vehicle or pedestrian

    @classmethod
    def of(cls, p: Presented, facts: Facts, d: Decision, snapshot: str | None = None) -> AccessEvent:
        cred = facts.credential
        holder = cred.holder if cred else None
        # A card that also names a car is, at a door, a person walking: no vehicle in or out.
        vehicle = cred.vehicle if cred and facts.lane.type == "vehicle" else None
        plate = vehicle.plate if vehicle else (p.value if p.kind == "plate" else None)
        return cls(
            event_id=uuid7(),
            at=p.at,
            lane=p.lane,
            device=p.device,
            kind=p.kind,
            value=p.value,
            confidence=p.confidence,
            admitted=d.admitted,
            reason=d.reason.value,
            billing=d.billing.value if d.billing else None,
            flags=d.flags,
            subject=subject_of(p, cred, facts.lane.type),
            holder_kind=holder.kind if holder else None,
            holder_id=holder.id if holder else None,
            holder_ref=holder.ref if holder else None,
            holder_name=holder.name_masked if holder else "",
            building=holder.building if holder else "",
            unit=holder.unit if holder else "",
            vehicle_id=vehicle.id if vehicle else None,
            vehicle_class=facts.vehicle_class,
            plate=plate,
            slot_id=d.slot_id,
            zone=facts.lane.zone,
            snapshot=snapshot,
            fee_fen=d.fee_fen,
            direction=facts.lane.direction,
            lane_type=facts.lane.type,
        )

    def as_json(self) -> dict[str, Any]:
        """The event as the API and the guard pages show it (personal data already masked)."""
        data = asdict(self)
        data["at"] = self.at.isoformat()
        data["flags"] = list(self.flags)
        return data

    def upstream(self) -> dict[str, Any]:
        """The outbox payload: no names, no phone or ID numbers, only references."""
        return {
            "at": self.at.isoformat(),
            "lane": self.lane,
            "direction": self.direction,
            "lane_type": self.lane_type,
            "device": self.device,
            "credential": {
                "kind": self.kind,
                "value": sent_value(self.kind, self.value),
                "confidence": self.confidence,
            },
            "admitted": self.admitted,
            "reason": self.reason,
            "billing": self.billing,
            "flags": list(self.flags),
            "holder": {"kind": self.holder_kind, "id": self.holder_id, "ref": self.holder_ref}
            if self.holder_kind
            else None,
            # Every record at a vehicle lane names the class decided, so the centre counts cars,
            # motorcycles and bicycles apart: one let in on a card or QR goes up with plate null.
            "vehicle": {"id": self.vehicle_id, "plate": self.plate, "class": self.vehicle_class}
            if self.plate or self.lane_type == "vehicle"
            else None,
            "slot_id": self.slot_id,
            "fee_fen": self.fee_fen,
        }
