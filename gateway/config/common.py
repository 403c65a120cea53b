"""Building blocks shared by the config models: strict models and identifiers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Identifier = Annotated[
    str,
    Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", description="lower-case letters, digits, - and _"),
]


class Strict(BaseModel):
    # strict: a value is taken only as TOML typed it. Lax, pydantic took `enabled = "NO"` as false,
    # "yes" as true and `capacity = { car = "10" }` as 10: the very changes behind the user's back
    # that TOML was chosen to avoid (README, Site config). A number for a float field (2 for 2.0)
    # is still taken; paths, given as strings, are taken with Field(strict=False).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def most_allowed(model: type[BaseModel], field: str) -> int:
    """The most a setting takes (its Field's le): code that must allow for any value an installer
    may set, whatever is set now, reads it here rather than writing the number again."""
    for rule in model.model_fields[field].metadata:
        most = getattr(rule, "le", None)
        if most is not None:
            return int(most)
    raise ValueError(f"{model.__name__}.{field} has no most value (le)")
