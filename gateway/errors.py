"""The gateway's errors: each says what went wrong and what the operator should do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class GatewayError(Exception):
    # What the error is to an HTTP client (gateway.api.errors answers with these).
    http_status: int = 500
    http_code: str = "error"

    def __init__(self, message: str, *, fix: str = "", code: str = "", data: Mapping[str, Any] | None = None):
        self.message = message
        self.fix = fix
        # What the answer holds besides its words, for a page to say in the guard's language (the
        # tickets inside, when a car left): the message and fix are English.
        self.data = dict(data or {})
        if code:  # narrower than the class's: a case the guard pages word on its own (already_done)
            self.http_code = code
        super().__init__(f"{message}\n    fix: {fix}" if fix else message)


class StorageError(GatewayError):
    """The database cannot be opened, migrated or written."""


class SetupError(GatewayError):
    """The box is set up so that the gateway cannot run (a port below 1024, a certificate or key
    it may not read): starting again would only fail again, so it stops (exit 78) until fixed."""


class ImportRejected(GatewayError):
    """A CSV import was refused; nothing of it was stored."""

    def __init__(self, problems: list[str], total: int):
        self.problems = problems
        shown = "\n".join(problems[:50])
        more = f"\n... and {total - 50} more" if total > 50 else ""
        super().__init__(
            f"{total} bad row(s); nothing was imported:\n{shown}{more}",
            fix="correct these rows and import the files again",
        )


class InputUnreadable(GatewayError):
    """A file given to a command (a CSV to import) that cannot be opened: not there, a folder, or
    one this user may not read. Nothing in it was read, so it is no bad row to correct: the command
    exits 66 (sysexits.h EX_NOINPUT), not 65."""


class NotFound(GatewayError):
    """The resident, pass, lane or account named does not exist."""

    http_status, http_code = 404, "not_found"


class Forbidden(GatewayError):
    """The person asking may not make this change (another guard's payment, a shift handed over)."""

    http_status, http_code = 403, "forbidden"


class Conflict(GatewayError):
    """The change clashes with what is stored (a resident's plate on a pass, a name taken)."""

    http_status, http_code = 409, "conflict"


class Refused(GatewayError):
    """The request is understood but a rule forbids it (closed management needs a field)."""

    http_status, http_code = 422, "refused"
