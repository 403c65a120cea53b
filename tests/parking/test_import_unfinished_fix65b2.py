"""A `gateway import` cut short (a power cut while it writes the office's list) is said by the
running gateway until the installer finishes it: an alarm (import_unfinished, 导入未完成), the
health report (/api/health and the upstream record) and a WARNING at start, each with what to run.

Review 65B cut a real one with SIGKILL: the box came back with 2,229 of 20,000 new cards in, and
nothing said so: /api/health ok, no alarm, not a word in the journal.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.alarm_texts import render_stored
from gateway.api.app import create_app
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from gateway.sync.health import health_report
from tests.conftest import write_csv
from tests.parking.conftest import make_gw  # noqa: F401  (fixture)
from tests.test_csv_fix47b_given_up_after_resume import _interrupted_after, one_row_a_step  # noqa: F401

CARDS = "card,resident_ref\n10000001,R1\n10000002,R2\n10000003,R3\n10000004,R1\n"


def _open(gw: Gateway) -> list[tuple[str, str, str]]:
    rows = gw.conn.execute("SELECT kind, source, message FROM alarms WHERE cleared_at IS NULL ORDER BY id")
    return [(kind, source, render_stored(message, "zh")) for kind, source, message in rows]


def _upstream(gw: Gateway) -> list[str]:
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm' ORDER BY seq").fetchall()
    sent = [json.loads(p) for (p,) in rows]
    return [m["state"] for m in sent if m["kind"] == "import_unfinished"]


def _health(gw: Gateway) -> tuple[object, object, str]:
    local = TestClient(create_app(gw)).get("/api/health").json()
    upstream = health_report(gw, {}, 0, "test", gw.now())["import_unfinished"]
    return local["import_unfinished"], upstream, local["status"]


def _cut(gw: Gateway, cards: Path, after: int, files: list[Path] | None = None) -> None:
    """The power cut: the import stops after its `after`th step (one row each)."""
    with pytest.raises(KeyboardInterrupt):
        import_csv(gw.site.config, [cards] if files is None else files, pause=_interrupted_after(after))


def test_a_cut_import_is_alarmed_shown_and_warned_of_until_the_installer_finishes_it(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
    one_row_a_step: None,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    gw = make_gw()
    cards = write_csv(tmp_path / "cards.csv", CARDS)
    staging = gw.data_dir / "import-staging.db"
    _cut(gw, cards, after=2)
    caplog.set_level(logging.WARNING, logger="gateway")
    gw.start()  # the box comes back
    try:
        said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        warned = [m for m in said if "unfinished" in m]
        assert len(warned) == 1, f"the journal says nothing of the import cut short: {warned}"
        assert "cards.csv" in warned[0] and "2 of its 4 rows" in warned[0]
        assert "gateway import -c CONFIG" in warned[0], warned[0]

        [(kind, source, words)] = _open(gw)
        assert (kind, source) == ("import_unfinished", str(staging))
        assert "4 行中只写入了 2 行" in words and "cards.csv" in words, words
        assert "在网关上运行 gateway import -c 站点配置文件 完成未写完的导入" in words, words
        assert _upstream(gw) == ["raised"]
        shown = {"files": ["cards.csv"], "done": 2, "total": 4}
        assert _health(gw) == (shown, shown, "degraded")

        # The installer runs it again and it is cut once more, after its third row: the alarm and
        # the health report say how far it got now; the alarm stays open while an import runs.
        seen_while_running: list[object] = []

        def look_then_cut() -> None:
            gw.operations.imports(gw.now())
            seen_while_running.append([k for k, _, _ in _open(gw)])
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            import_csv(gw.site.config, [], pause=look_then_cut)
        assert seen_while_running == [["import_unfinished"]]
        gw.operations.imports(gw.now())
        [(_, _, words)] = _open(gw)
        assert "4 行中只写入了 3 行" in words, words
        shown = {"files": ["cards.csv"], "done": 3, "total": 4}
        assert _health(gw)[:2] == (shown, shown)

        import_csv(gw.site.config, [])  # finished
        assert not staging.exists()
        gw.operations.imports(gw.now())
        assert _open(gw) == []
        assert _upstream(gw) == ["raised", "raised", "cleared"]  # raised again: its new words
        assert _health(gw)[:2] == (None, None)
    finally:
        gw.stop()


def test_an_import_given_up_by_moving_its_staging_file_aside_clears_the_alarm(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
    one_row_a_step: None,  # noqa: F811
) -> None:
    gw = make_gw()
    staging = gw.data_dir / "import-staging.db"
    _cut(gw, write_csv(tmp_path / "cards.csv", CARDS), after=1)
    gw.start()
    try:
        assert [k for k, _, _ in _open(gw)] == ["import_unfinished"]
        staging.rename(tmp_path / "import-staging.db.aside")
        gw.operations.imports(gw.now())
        assert _open(gw) == []
        assert _upstream(gw) == ["raised", "cleared"]
        assert _health(gw)[:2] == (None, None)
    finally:
        gw.stop()


def test_an_import_running_or_finished_raises_nothing(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
    one_row_a_step: None,  # noqa: F811
) -> None:
    """While an import runs its staging file is its work in progress: the looks meanwhile (every
    30 s) neither alarm nor show it."""
    gw = make_gw()
    gw.start()
    try:
        seen: list[object] = []

        def look() -> None:
            gw.operations.imports(gw.now())
            seen.append((_open(gw), _health(gw)[:2]))

        import_csv(gw.site.config, [write_csv(tmp_path / "cards.csv", CARDS)], pause=look)
        gw.operations.imports(gw.now())
        assert seen == [([], (None, None))] * 3
        assert (_open(gw), _upstream(gw), _health(gw)[:2]) == ([], [], (None, None))
    finally:
        gw.stop()


def test_a_staging_file_that_cannot_be_read_is_alarmed_too(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Damaged (the card), part of its import may be in: `gateway import` says what to do."""
    gw = make_gw()
    (gw.data_dir / "import-staging.db").write_bytes(b"not a database, a damaged card" * 200)
    gw.start()
    try:
        [(kind, _, words)] = _open(gw)
        assert kind == "import_unfinished" and "无法读取" in words and "gateway import -c" in words, words
        assert _health(gw) == (
            {"files": [], "done": None, "total": None},
            {"files": [], "done": None, "total": None},
            "degraded",
        )
    finally:
        gw.stop()
