"""The one error shape, as the OpenAPI schema documents it for every route."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, for programs: login_required, csrf, admin_only, ...")
    message: str = Field(description="What went wrong, for people.")
    fix: str = Field(description="What to do about it.")
    fields: list[str] | None = Field(
        None, description="A form's fields at fault, when the error is about them (a page names them)."
    )
    tickets: list[str] | None = Field(
        None,
        description="unknown_ticket and ticket_needed: the tickets of the cars with no plate inside now, "
        "newest first (a page names them).",
    )
    left_at: str | None = Field(
        None,
        description="left_since: when the car was recorded leaving, in the site's time "
        "(2025-03-10T07:00:00+08:00).",
    )
    least: int | None = Field(
        None, description="reason_required: the fewest characters a reason takes there (a page says it)."
    )


class ErrorBody(BaseModel):
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Not logged in, or a bad API token"},
    403: {
        "model": ErrorBody,
        "description": "No CSRF token with a cookie, admins only, or a session naming another as actor",
    },
    404: {"model": ErrorBody, "description": "No such thing"},
    409: {"model": ErrorBody, "description": "Clashes with what is stored"},
    422: {"model": ErrorBody, "description": "The request is not valid, or a rule refuses it"},
}
