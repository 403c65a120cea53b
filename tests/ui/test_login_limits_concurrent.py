"""docs/guard-app.md, Security choices: "5 failures per user name and 10 per client address within
5 minutes; then 429". A guesser on the LAN who sends his guesses at the same time, rather than one
after the other, gets no more password checks than that (and a burst of Argon2 checks at 64 MiB
each cannot run a 2 GB Pi out of memory and stop the lanes)."""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request

import pytest
from fastapi.testclient import TestClient

from gateway.accounts.ratelimit import Limit, LoginLimiter
from tests.ui.conftest import GUARD

GUESSES = 30


def _guess(url: str, password: str, answers: list[int], start: threading.Barrier) -> None:
    body = json.dumps({"username": GUARD[0], "password": password}).encode()
    request = urllib.request.Request(
        f"{url}/api/session", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    start.wait()
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            answers.append(r.status)
    except urllib.error.HTTPError as exc:
        answers.append(exc.code)


def test_guesses_sent_together_get_no_more_password_checks_than_the_limit(live_url: str) -> None:
    answers: list[int] = []
    start = threading.Barrier(GUESSES)
    threads = [
        threading.Thread(target=_guess, args=(live_url, f"guess-{i:04d}", answers, start))
        for i in range(GUESSES)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    checked = answers.count(401)  # each 401 is one password tried against the account
    assert len(answers) == GUESSES
    assert checked <= 5, (
        f"{checked} passwords were tried against {GUARD[0]} at once (the limit is 5 per 5 minutes); "
        f"answers: {sorted(answers)}"
    )
    assert answers.count(429) == GUESSES - checked


def test_a_check_under_way_counts_until_it_is_known_to_be_right() -> None:
    limiter = LoginLimiter(per_address=Limit(3, 60), per_user=Limit(2, 60))
    assert limiter.book("10.0.0.2", "a", 0) == 0
    assert limiter.book("10.0.0.3", "A", 1) == 0
    assert limiter.book("10.0.0.4", "a", 2) > 0  # two checks of "a" under way: the third waits
    limiter.succeeded("10.0.0.3", "A", 1)  # the right password: its check no longer counts
    assert limiter.book("10.0.0.4", "a", 3) == 0
    limiter.failed("10.0.0.2", "a", 0)  # a wrong one stays counted, from when it was booked
    assert limiter.retry_after("10.0.0.5", "a", 10) == 50
    assert limiter.book("10.0.0.2", "b", 10) == 0
    assert limiter.book("10.0.0.2", "c", 11) == 0
    assert limiter.book("10.0.0.2", "d", 12) == 48  # the address: 1 failure and 2 checks under way


def test_an_admin_finds_wrong_passwords_in_the_log_with_their_address(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/guard-app.md: someone on the LAN can keep an account locked out; the admin looks in the
    log for where the guesses come from."""
    with caplog.at_level(logging.WARNING, logger="gateway.api.session"):
        client.post("/api/session", json={"username": GUARD[0], "password": "guess-0001"})
        client.post("/api/session", json={"username": GUARD[0], "password": GUARD[1]})
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.api.session"]
    assert lines == [f"a wrong password for user '{GUARD[0]}' from testclient"]
