"""`gateway bench ui`: how fast a decision reaches the guard's screen; what the live page weighs.

A small site is seeded and served on a real socket. Pages connect: real headless Chromium pages
(the Debian `chromium`, driven by Playwright) where they are installed, and plain event-stream
readers for the rest. Presentations are then handed to the gateway one by one, as a driver does;
each page notes when it put the event on screen (`window.__shown`). The figure is from the driver
handing the credential over to the page showing it: decision, durable commit, push and render.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import uvicorn

from gateway.accounts.passwords import hash_password
from gateway.api.app import create_app
from gateway.bench.common import (
    count,
    duration,
    in_work_dir,
    percentile,
    report,
    rounded,
    work_folder,
    write_bench_config,
    zero_or_more,
)
from gateway.config import load_config
from gateway.core import Presented
from gateway.demo.seed import random_plate, write_site_csvs
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_account, create_session
from gateway.store.admin import import_csv

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
_ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pages", type=count, default=20, help="pages connected to the live stream")
    p.add_argument(
        "--browser-pages",
        type=zero_or_more,
        default=None,
        help="how many of them are real Chromium pages (default: all, if installed)",
    )
    p.add_argument("--events", type=count, default=200, help="presentations to time")
    p.add_argument("--gap-ms", type=duration, default=50.0, help="time between presentations")
    p.add_argument("--residents", type=count, default=2000, help="residents (with cards) on the site")
    p.add_argument("--work-dir", type=work_folder, help="keep the generated site here")


def bench_ui(args: argparse.Namespace) -> int:
    return in_work_dir(args, "gateway-bench-ui-", _run)


@contextmanager
def served(gw: Gateway) -> Iterator[str]:
    # Live streams never end by themselves: on the way out they get half a second, then are cut.
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(gw),
            host="127.0.0.1",
            port=0,
            log_config=None,
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the HTTP server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def first_load(url: str, cookie: str) -> dict[str, int]:
    """Bytes a tablet transfers to show the live page the first time: HTML, script, style, icon."""
    with httpx2.Client(base_url=url, cookies={"egw_session": cookie}) as client:
        page = client.get("/")
        page.raise_for_status()
        total, assets = _bytes(page), 0
        for path in sorted(set(_ASSET.findall(page.text))):
            asset = client.get(path)
            asset.raise_for_status()
            total += _bytes(asset)
            assets += 1
    return {"bytes": total, "requests": 1 + assets, "html_bytes": _bytes(page)}


def _bytes(response: httpx2.Response) -> int:
    head = sum(len(k) + len(v) + 4 for k, v in response.headers.raw) + 17  # status line, CRLFs
    return head + len(response.content)


def _run(args: argparse.Namespace, work: Path) -> int:
    cfg = load_config(write_bench_config(work))
    n = max(args.residents, args.events + 30)
    paths = write_site_csvs(work / "csv", residents=n, cards=n, slots=n * 3 // 4)
    import_csv(cfg, list(paths.values()))
    gw = Gateway(cfg)
    gw.start()
    hashed = hash_password(f"bench-{random.random()}")
    cookie = gw.on_worker(lambda c: _session(c, gw, hashed)).result(timeout=30)
    cards = [
        r[0]
        for r in gw.conn.execute(
            "SELECT value FROM credentials WHERE kind = 'card' ORDER BY random() LIMIT ?",
            (args.events + 30,),
        )
    ]
    rng = random.Random(5)
    notes: list[str] = []
    try:
        _present(gw, [("door", "card", c) for c in cards[:24]], 0.01)  # a page as at any hour
        with served(gw) as url:
            load = first_load(url, cookie)
            figures = _timed(args, gw, url, cookie, cards[24:], rng, notes)
    finally:
        gw.stop()
    figures.update(
        {
            "live_page_first_load_bytes": load["bytes"],
            "live_page_first_load_kb": round(load["bytes"] / 1024, 1),
            "live_page_requests": load["requests"],
        }
    )
    notes.append(
        "shown = from the driver handing a credential over to a page having it on screen "
        "(decision, durable commit, push over server-sent events, render)"
    )
    notes.append(
        "first load = the live page's HTML, script, style and icon, headers included, "
        "uncompressed; fonts are the tablet's own (no web font is sent)"
    )
    report(figures, args.json, notes)
    return 0


def _session(conn: Any, gw: Gateway, hashed: str) -> str:
    create_account(conn, gw.now(), "bench", "bench", "基准", "guard", hashed)
    from gateway.store.accounts import find_account

    account = find_account(conn, "bench")
    assert account is not None
    token, _ = create_session(conn, gw.now(), account, 1.0)
    return token


def _present(gw: Gateway, items: list[tuple[str, str, str]], gap_s: float) -> dict[str, float]:
    """Hand each presentation over as a driver does; the wall-clock time of each, by value."""
    sent: dict[str, float] = {}
    for lane, kind, value in items:
        sent[value] = time.time()
        gw.present(Presented(lane, kind, value, 1.0, gw.now(), "bench"))  # type: ignore[arg-type]
        time.sleep(gap_s)
    return sent


def _timed(
    args: argparse.Namespace,
    gw: Gateway,
    url: str,
    cookie: str,
    cards: list[str],
    rng: random.Random,
    notes: list[str],
) -> dict[str, Any]:
    browser_pages = args.browser_pages if args.browser_pages is not None else args.pages
    pw = None
    if browser_pages > 0:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            notes.append("playwright is not installed (pip install -e '.[dev]'): no browser pages")
            browser_pages = 0
        else:
            if not CHROMIUM.exists():
                notes.append("no /usr/bin/chromium (apt-get install chromium): no browser pages")
                browser_pages = 0
            else:
                pw = sync_playwright().start()
    browser_pages = min(browser_pages, args.pages)
    shown: list[dict[str, float]] = []
    streams = [_Stream(url, cookie) for _ in range(args.pages - browser_pages)]
    decided: dict[str, str] = {}  # event id -> presented value
    gw.subscribe(lambda ev: _note(decided, ev))
    try:
        pages = _open_pages(pw, url, cookie, browser_pages) if pw else []
        for s in streams:
            s.start()
        for s in streams:
            s.ready.wait(10)
        items = []
        for i in range(args.events):
            if i % 2:
                items.append(("door", "card", cards[i % len(cards)] if i < len(cards) else f"{i:010X}"))
            else:
                items.append(("car-in", "plate", random_plate(rng, "京")))
        sent = _present(gw, items, args.gap_ms / 1000)
        deadline = time.monotonic() + 3.0  # the last events reach every page, or count as not shown
        while time.monotonic() < deadline:
            shown = [page.evaluate("window.__shown") for page in pages]
            if all(len(seen) >= len(items) for seen in shown) and all(
                len(s.seen) >= len(items) for s in streams
            ):
                break
            time.sleep(0.1)
    finally:
        for s in streams:
            s.stop()
        if pw is not None:
            pw.stop()
    by_event = {eid: sent[value] for eid, value in decided.items() if value in sent}
    page_ms = [
        (at / 1000 - by_event[eid]) * 1000 for seen in shown for eid, at in seen.items() if eid in by_event
    ]
    stream_ms = [
        (at - by_event[eid]) * 1000 for s in streams for eid, at in s.seen.items() if eid in by_event
    ]
    expected = len(by_event) * args.pages
    got = len(page_ms) + len(stream_ms)
    all_ms = page_ms + stream_ms
    return {
        "pages_connected": args.pages,
        "browser_pages": browser_pages,
        "events": len(by_event),
        "shown_p50_ms": rounded(percentile(all_ms, 50), 1),
        "shown_p95_ms": rounded(percentile(all_ms, 95), 1),
        "shown_max_ms": rounded(max(all_ms, default=None), 1),
        "browser_shown_p95_ms": rounded(percentile(page_ms, 95), 1),
        "stream_received_p95_ms": rounded(percentile(stream_ms, 95), 1),
        "not_shown": expected - got,
    }


def _note(decided: dict[str, str], ev: AccessEvent) -> None:
    decided[ev.event_id] = ev.value


def _open_pages(pw: Any, url: str, cookie: str, n: int) -> list[Any]:
    browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    pages = []
    for _ in range(n):
        # One context each, as each tablet is its own browser: a browser allows 6 connections to
        # one host, and every live page keeps one open for its stream.
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_cookies([{"name": "egw_session", "value": cookie, "url": url}])
        page = context.new_page()
        page.goto(f"{url}/")
        # Connected: the first status message over the stream has filled the lane badges.
        page.wait_for_function("document.querySelector('[data-status]').textContent !== ''")
        pages.append(page)
    return pages


class _Stream:
    """A page's event stream without the page: notes when each event arrives."""

    def __init__(self, url: str, cookie: str):
        self._url, self._cookie = url, cookie
        self.seen: dict[str, float] = {}
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop noting and hang up, as a tablet closing the page does: left open, the stream was
        cut when the server shut down, which logged a CancelledError traceback for each."""
        self._stop.set()
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)  # wakes the read blocked in the thread
        self._thread.join(timeout=5)

    def _run(self) -> None:
        with contextlib.suppress(httpx2.HTTPError):  # hung up by stop()
            self._read()

    def _read(self) -> None:
        cookies = {"egw_session": self._cookie}
        with httpx2.stream(
            "GET",
            f"{self._url}/api/live/stream",
            cookies=cookies,
            timeout=httpx2.Timeout(5, read=None),
        ) as r:
            self._socket = r.extensions["network_stream"].get_extra_info("socket")
            event_id = ""
            for line in r.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith("event: status"):
                    self.ready.set()
                elif line.startswith("id: "):
                    event_id = line[4:]
                elif line.startswith("data: ") and event_id:
                    self.seen.setdefault(event_id, time.time())
                    event_id = ""
