"""Building blocks shared by the config models: strict models and identifiers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Identifier = Annotated[
    str,
    Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", description="lower-case letters, digits, - and _"),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
