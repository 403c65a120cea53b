"""What the guard app's routes share: the gateway, a read connection, and writes on the worker."""

from __future__ import annotations

import hashlib
import logging
import pathlib
import sqlite3
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Header, Path, Request
from pydantic import AfterValidator, BeforeValidator

from gateway.accounts.ratelimit import LoginLimiter
from gateway.api.errors import ApiError
from gateway.api.hub import Hub
from gateway.privacy import mask_numbers_in
from gateway.runtime.gateway import Gateway
from gateway.runtime.hand_opens import storage_failure
from gateway.runtime.worker import StillRunning, wait_or_call_off
from gateway.store.database import open_read_only, storage_cause, storage_fix
from gateway.timefmt import from_db

log = logging.getLogger(__name__)

T = TypeVar("T")
WRITE_TIMEOUT_S = 15.0
MAX_ID = 2**63 - 1  # SQLite's largest INTEGER: a bigger id is a 422, not an overflow
# A plate as a guard types it into a query or a fee: the longest plate (苏A1234应急, 8 characters)
# with the spaces and dots a guard may put between its parts (苏 A · 1234 应急), which the plate
# check removes; a longer one is refused there as not a plate (invalid_plate), not here.
PLATE_TYPED_MAX = 20

# A row id in a path, e.g. /api/passes/{pass_id}.
Id = Annotated[int, Path(ge=1, le=MAX_ID)]

FIRST_YEAR, LAST_YEAR = 2000, 2200


AnyDate = TypeVar("AnyDate", date, datetime)


def _in_range(value: AnyDate) -> AnyDate:
    # Python's datetimes end at 9999-12-31: one near there overflows when hours are added or it is
    # converted to UTC. No pass, card or resident needs a date outside these years.
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must be between the years {FIRST_YEAR} and {LAST_YEAR}")
    return value


def _whole_day(value: object) -> object:
    # A bare date that ends a period includes that whole day, as in a CSV import (parse_local) and
    # on the admin page: renewed "until 2026-12-31", a car is monthly all that day.
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return datetime.combine(date.fromisoformat(value.strip()) + timedelta(days=1), time(0))
        except (ValueError, OverflowError):
            return value  # pydantic says what is wrong with it
    return value


# A date and time in a request body, e.g. a pass's valid_from.
When = Annotated[datetime, AfterValidator(_in_range)]
# The end of a period in a request body (valid_to, monthly_until): a bare date is the whole day.
End = Annotated[datetime, BeforeValidator(_whole_day), AfterValidator(_in_range)]
# A day in a path, e.g. /api/parking/reports/{day}.
Day = Annotated[date, AfterValidator(_in_range)]
# Words a guard or admin types that go to the audit trail and upstream (a reason): a phone or ID
# number in them masked as they enter (REQUIREMENTS *Privacy*: never upstream in clear).
Words = Annotated[str, AfterValidator(mask_numbers_in)]


@dataclass
class GuardApp:
    """Held in app.state.guard: one per app, made by create_app."""

    gw: Gateway
    hub: Hub
    limiter: LoginLimiter

    def __post_init__(self) -> None:
        _still_saving.serving(self.gw.data_dir)


def guard_app(request: Request) -> GuardApp:
    app: GuardApp = request.app.state.guard
    return app


def read_only(gw: Gateway) -> sqlite3.Connection:
    # FastAPI may open it on one threadpool thread and use it on another; one request uses it
    # at a time, so that is safe (sqlite3 would otherwise refuse).
    return open_read_only(gw.db_path, 5, check_same_thread=False)


def read_db(request: Request) -> Iterator[sqlite3.Connection]:
    """A read-only connection per request; the decision worker alone writes."""
    conn = read_only(guard_app(request).gw)
    try:
        yield conn
    finally:
        conn.close()


Db = Annotated[sqlite3.Connection, Depends(read_db)]
App = Annotated[GuardApp, Depends(guard_app)]
# The key a client makes for one change it may send again (KeyedWrites): the guard page's forms send
# one with every submit (app.js keyFor), the same while the form is unchanged.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=64,
        description="Made by the client for one change: a repeat with the same key (a second tap, a "
        "retry after a dropped reply) is answered what the first one made, never made twice.",
    ),
]


def write(gw: Gateway, run: Callable[[sqlite3.Connection], T], timeout_s: float | None = None) -> T:
    """Run a change on the worker thread, in turn with decisions; errors come back here."""
    return saved(gw.on_worker(run), timeout_s)


def saved(future: Future[T], timeout_s: float | None = None) -> T:
    """The result of a change sent to the worker, waited for WRITE_TIMEOUT_S unless told otherwise.

    Past that, a change the worker has not begun is called off, so that the busy answer ("did not
    save this", api/guard.py) is true: done again, it is saved once. One the worker has begun (held
    up behind another process's lock, say) may still be saved, and the answer says so: a guard who
    simply did it again would block a card twice, or take a fee twice. Should it then fail for
    want of storage, the journal says so (_StillSaving): no request is left to be told."""
    try:
        with _still_saving.waited(future):
            return wait_or_call_off(future, WRITE_TIMEOUT_S if timeout_s is None else timeout_s)
    except StillRunning:
        _still_saving.answered(future)
        raise ApiError(
            503,
            "still_saving",
            "the gateway is busy and is still saving this",
            "reload the page in a moment to see whether it was saved before doing it again",
        ) from None


class _StillSaving:
    """The changes answered still_saving: nobody may wait for them any longer, and the worker leaves
    a storage failure to whoever waits (gateway/runtime/worker.py), so such a change that then
    fails was said nowhere. It is said here, once per change however many requests (a second tap
    of a keyed change) were answered still_saving, and not at all when a request did get its
    failure (answered storage_failed, which the API logs) or when it is saved after all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[Future[Any], int] = {}  # requests waiting for each change now
        self._told: weakref.WeakSet[Future[Any]] = weakref.WeakSet()  # answered still_saving
        self._known: weakref.WeakSet[Future[Any]] = weakref.WeakSet()  # a request got its outcome
        # The data directory of the gateway the API serves (one per process: GuardApp), which the
        # fix names: the writes come back here on bare futures, which do not say whose they are.
        # Until an app serves one (a test's bare future), the fix says "the data directory".
        self._data_dir = pathlib.Path("the data directory")

    def serving(self, data_dir: pathlib.Path) -> None:
        self._data_dir = data_dir

    @contextmanager
    def waited(self, future: Future[Any]) -> Iterator[None]:
        with self._lock:
            self._waiting[future] = self._waiting.get(future, 0) + 1
        ended = True
        try:
            yield
        except StillRunning:
            ended = False
            raise
        finally:
            with self._lock:
                self._waiting[future] -= 1
                if not self._waiting[future]:
                    del self._waiting[future]
                if ended:
                    self._known.add(future)

    def answered(self, future: Future[Any]) -> None:
        """`future` was answered still_saving: its failure, should it come, is said when it does."""
        with self._lock:
            if future in self._told:
                return
            self._told.add(future)
        future.add_done_callback(self._ended)

    def _ended(self, future: Future[Any]) -> None:
        error = None if future.cancelled() else future.exception()
        if not isinstance(error, sqlite3.Error) or not storage_failure(error):
            return  # saved, or a fault the worker logs itself
        with self._lock:
            if self._waiting.get(future) or future in self._known:
                return  # a request waiting for it gets the failure, and is answered storage_failed
        log.warning(
            "a change answered 503 still_saving was not saved after all: %s; nothing of it was "
            "changed, and a reload of the page shows it missing (fix: %s; then make the change again)",
            error,
            self._fix(error),
        )

    def _fix(self, error: sqlite3.Error) -> str:
        """By the cause, as the journal's other lines word it: a card gone read-only has room."""
        return storage_fix(storage_cause(error, self._data_dir), self._data_dir)


_still_saving = _StillSaving()


class KeyedWrites(Generic[T]):
    """Writes named by the Idempotency-Key a client makes for one change, per user, the newest
    `kept` remembered (in memory: a repeat comes within seconds). A repeat with the same key (a
    second tap, a retry after an answer lost on the Wi-Fi) is answered what the first one did,
    and one that comes while that is still being saved (仍在保存, still_saving) waits for the same
    write: the change is never made twice. A key whose write failed or was called off (busy,
    storage_failed: nothing saved) names nothing, and a repeat with it makes the change."""

    def __init__(self, what: str, kept: int = 500) -> None:
        self.what = what  # the change, as a mismatch names it: "registration"
        self.kept = kept
        self._made: OrderedDict[tuple[str, str], tuple[Future[T], str]] = OrderedDict()
        self._lock = threading.Lock()

    def once(self, user: str, key: str, asked: str, start: Callable[[], Future[T]]) -> tuple[Future[T], bool]:
        """The write `key` names for `user`, and whether an earlier request started it; else it is
        started now (`start`). `asked`: the request, as text, the same for the same change; the
        key sent with another is 422 idempotency_mismatch."""
        named = (user, key)
        digest = hashlib.sha256(asked.encode()).hexdigest()
        started: Future[T] | None = None
        with self._lock:  # a second tap arrives while the first is still being stored
            made = self._made.get(named)
            if made is None:
                started = start()
                made = self._made[named] = (started, digest)
                while len(self._made) > self.kept:
                    self._made.popitem(last=False)
        if started is not None:
            # Outside the lock: a write already done runs its callback at once, and that takes the lock.
            started.add_done_callback(lambda done: self._settle(named, done))
        writing, was = made
        if was != digest:
            raise ApiError(
                422,
                "idempotency_mismatch",
                f"this Idempotency-Key was used for another {self.what}",
                f"send a new key for a changed {self.what} (the page does this itself)",
            )
        return writing, started is None

    def started(self, user: str, key: str) -> bool:
        """Whether `key` names a write for `user` that is saved or under way (once), starting none."""
        with self._lock:
            return (user, key) in self._made

    def forget(self, user: str, key: str) -> None:
        """`key` names nothing for `user` from now: what it made is gone (deleted, revoked), and the
        next request with it makes the change anew."""
        with self._lock:
            self._made.pop((user, key), None)

    def _settle(self, named: tuple[str, str], done: Future[T]) -> None:
        """A write has ended: failed or called off (nothing saved), its key names nothing."""
        with self._lock:
            made = self._made.get(named)
            if made is None or made[0] is not done:
                return  # forgotten meanwhile (the oldest of too many)
            if done.cancelled() or done.exception() is not None:
                del self._made[named]


def saved_once(writing: Future[T], timeout_s: float | None = None) -> T:
    """What a keyed write (KeyedWrites) made, waited for as any write is (saved); a repeat with
    the same key waits on the same write, so it gets what that made, still_saving again, or the
    write's own error, never a second change."""
    try:
        return saved(writing, timeout_s)
    except CancelledError:  # called off by the other request's wait: not saved, as its 503 busy says
        raise FutureTimeout from None


def made_once(
    writes: KeyedWrites[T],
    user: str,
    key: str | None,
    asked: str,
    start: Callable[[], Future[T]],
    timeout_s: float | None = None,
) -> tuple[T, bool]:
    """What a change made, and whether an earlier request with its Idempotency-Key (`key`) made it:
    with a key, the change is started once (KeyedWrites.once) and a repeat gets what that made
    (saved_once); without one, it is started and waited for as any write (saved)."""
    if not key:
        return saved(start(), timeout_s), False
    writing, again = writes.once(user, key, asked, start)
    return saved_once(writing, timeout_s), again


def local(gw: Gateway, text: str | None) -> str | None:
    """A stored UTC time as the site's local time, ISO 8601 with its offset."""
    value = from_db(text)
    return value.astimezone(gw.site.tz).isoformat(timespec="seconds") if value else None


def aware(gw: Gateway, value: datetime) -> datetime:
    """A time from a form: without a zone it is the site's local time."""
    return value if value.tzinfo else value.replace(tzinfo=gw.site.tz)


def aware_or_none(gw: Gateway, value: datetime | None) -> datetime | None:
    """`aware` for an optional form field."""
    return aware(gw, value) if value else None
