"""Login rate limiting: failed logins counted per client address and per user name.

Time is a parameter, so the rules are tested without waiting. The counts live in memory: a
restart forgets them, which costs a guesser nothing they could not get by waiting anyway.

A check is booked before the password is verified and counts as a failure until it proves right:
guesses sent all at once would otherwise all pass the limit while the first were still being
checked, and each Argon2 check holds 64 MiB (40 at once run a 2 GB Pi out of memory).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal

LockedBy = Literal["address", "user"]


@dataclass(frozen=True, slots=True)
class Limit:
    failures: int  # this many failures within window_s ...
    window_s: float  # ... and the key must wait until the oldest of them is window_s old


@dataclass(frozen=True, slots=True)
class Wait:
    """How long a login must wait, and which limit says so. "address" whenever the address is
    over its limit: then no account may log in from it, so the page must not send the guard to
    another account; "user" when only the user name is (another account may log in meanwhile)."""

    seconds: float  # 0: it may be tried now
    locked_by: LockedBy | None = None


class LoginLimiter:
    # A tablet shared by a shift may mistype a few times; a guesser on the LAN gets 10 tries in
    # 5 minutes per address and 5 per user name (so guessing one account from many addresses is
    # slow too).
    def __init__(
        self,
        per_address: Limit = Limit(10, 300.0),
        per_user: Limit = Limit(5, 300.0),
        max_keys: int = 10_000,
    ):
        self._limits = {"addr": per_address, "user": per_user}
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._booked: dict[tuple[str, str], list[float]] = {}  # checks under way, by when booked
        self._max_keys = max_keys
        self._lock = threading.Lock()

    def retry_after(self, address: str, username: str, now: float) -> float:
        """Seconds until a login from `address` for `username` may be tried; 0 when it may now."""
        with self._lock:
            return self._wait(address, username, now).seconds

    def book(self, address: str, username: str, now: float) -> float:
        """book_or_wait's seconds alone."""
        return self.book_or_wait(address, username, now).seconds

    def book_or_wait(self, address: str, username: str, now: float) -> Wait:
        """Book a password check at `now`, as retry_after says; Wait(0) when booked, else the wait
        and which limit sets it (nothing booked). End each booking with failed() or succeeded()
        at the same `now`."""
        with self._lock:
            wait = self._wait(address, username, now)
            if wait.seconds == 0:
                for key in self._keys(address, username):
                    self._booked.setdefault(key, []).append(now)
            return wait

    def failed(self, address: str, username: str, now: float) -> None:
        with self._lock:
            self._unbook(address, username, now)
            if len(self._failures) >= self._max_keys:
                self._forget_old(now)
            for key in self._keys(address, username):
                self._failures.setdefault(key, deque(maxlen=100)).append(now)

    def succeeded(self, address: str, username: str, booked_at: float | None = None) -> None:
        with self._lock:
            if booked_at is not None:
                self._unbook(address, username, booked_at)
            self._failures.pop(("user", username.lower()), None)

    def forget_user(self, username: str) -> None:
        """An admin set a new password for `username`: the failures counted against its name were
        guesses at the old one, now worthless, so the guard may log in at once. The per-address
        count stays, so a guesser gains no tries from it."""
        with self._lock:
            self._failures.pop(("user", username.lower()), None)

    def _wait(self, address: str, username: str, now: float) -> Wait:
        waits: dict[str, float] = {}
        for key in self._keys(address, username):
            limit = self._limits[key[0]]
            times = sorted([*self._trimmed(key, now), *self._booked.get(key, ())])
            wait = times[-limit.failures] + limit.window_s - now if len(times) >= limit.failures else 0.0
            if wait > 0:  # a check booked longer ago than the window holds nothing up
                waits[key[0]] = wait
        if not waits:
            return Wait(0.0)
        # The longer wait is the one to tell; an address over its limit is named even when the
        # user name's wait is longer, since another account would not help there either.
        return Wait(max(waits.values()), "address" if "addr" in waits else "user")

    def _unbook(self, address: str, username: str, booked_at: float) -> None:
        for key in self._keys(address, username):
            booked = self._booked.get(key, [])
            if booked_at in booked:
                booked.remove(booked_at)
            if not booked:
                self._booked.pop(key, None)

    def _keys(self, address: str, username: str) -> list[tuple[str, str]]:
        return [("addr", address), ("user", username.lower())]

    def _trimmed(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        window = self._limits[key[0]].window_s
        while times and times[0] <= now - window:
            times.popleft()
        return times

    def _forget_old(self, now: float) -> None:
        for key in list(self._failures):
            if not self._trimmed(key, now):
                del self._failures[key]
        if len(self._failures) >= self._max_keys:
            # Still full of live keys (a flood of throw-away names and addresses): drop those
            # furthest from their limit, so that the flood never frees the account it hides.
            def used(key: tuple[str, str]) -> float:
                return len(self._failures[key]) / self._limits[key[0]].failures

            for key in sorted(self._failures, key=used)[: len(self._failures) - self._max_keys + 1]:
                del self._failures[key]
