"""What the recognizer returns: one plate reading."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reading:
    text: str  # fits a format of plates.grammar
    colour: str  # blue, yellow, green, white or black
    confidence: float  # 0..1, product of the characters' probabilities
    box: tuple[int, int, int, int]  # x, y, w, h in the pixels of the image that was read
    rows: int = 1  # 2 for two-row (yellow, trailer) plates
    fmt: str = "standard"  # name of the grammar format the text fits

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "colour": self.colour,
                "confidence": round(self.confidence, 4), "box": list(self.box),
                "rows": self.rows, "format": self.fmt}
