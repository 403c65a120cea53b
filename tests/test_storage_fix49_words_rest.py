"""What 35a08bf and ef66a76 left saying "free disk space" whatever the cause: a decision that failed
for a fault of the gateway's own (a bug, on a disk with room), the live panel's plain storage_failed
words, an SQLite error that is no storage's told to replace the card, and the MQTT command reply,
`gateway import-inside` and other commands' errors, the link's outbox marks, an exit's stay not put
back, `gateway export-plates`. Each is worded by its cause (database.storage_cause, storage_fix):
only a full disk is told to free space. On a machine where no loop device can be made, the card's
tests skip and say why (tests/sdcard.py)."""

from __future__ import annotations

import errno
import json
import logging
import queue
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gateway import cli
from gateway.api.app import create_app
from gateway.core import Presented
from gateway.errors import StorageError
from gateway.events import AccessEvent
from gateway.parking import inside as parking_inside
from gateway.runtime import outbox_stream
from gateway.store import plate_crops
from gateway.store import registry as registry_store
from gateway.store.database import DB_NAME, open_database, storage_cause, storage_fix
from gateway.sync.commands import Commands, _storage_failed, sign, verify
from gateway.sync.link_outbox import LinkOutbox
from gateway.sync.topics import Topics
from gateway.web.i18n import js_texts
from tests.conftest import site_toml, write_csv
from tests.sdcard import Card, sd_card, site_on_card
from tests.ui.conftest import CARD, PLATE, Site, bearer, make_config, served, start_site, wait_for
from tests.ui.test_guard_browser import CHROMIUM, PORTRAIT, browser, following_the_stream, page_at  # noqa: F401

KEY = b"k" * 32
TZ = ZoneInfo("Asia/Shanghai")
EXIT_RELAY = """
[[devices]]
id = "car-out-barrier"
lane = "car-out"
kind = "relay"
driver = "simulated"
"""
FULL_DISK_WORDS = ("磁盘已满", "磁盘空间", "disk full", "disk is full", "free disk space")


@pytest.fixture
def on_card(tmp_path: Path) -> Iterator[tuple[Site, Card]]:
    """A site on a card, with a relay on its car exit too."""
    with site_on_card(tmp_path / "data", EXIT_RELAY) as both:
        yield both


def _panel_words(ev: AccessEvent, language: str = "zh") -> str:
    """What gateway/web/static/live.js `why(ev)` shows for an event."""
    texts = js_texts(language)
    cause = next((f for f in ev.flags if f.startswith("storage:")), None)
    return texts[f"why.storage_failed.{cause[8:]}"] if cause else texts[f"why.{ev.reason}"]


def _says_full_disk(words: str) -> bool:
    return any(said in words for said in FULL_DISK_WORDS)


def _card_error(card: Card) -> sqlite3.Error:
    """What SQLite says of a write on the card once it failed (the disk has room)."""
    with closing(sqlite3.connect(card.mount / "probe.db", isolation_level=None)) as conn:
        conn.execute("CREATE TABLE t (x)")
        card.fail()
        try:
            conn.execute("INSERT INTO t VALUES (zeroblob(100000))")
        except sqlite3.Error as exc:
            return exc
    raise AssertionError("the failed card took a write")


# -- a decision that failed for a fault of the gateway's own ----------------------------------------


def test_a_decision_that_failed_for_a_fault_of_its_own_does_not_send_the_guard_to_free_disk_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decision that fails for a fault of the gateway's own (Gateway._decide_alone: "a bug, only its
    gate stays shut"), on a disk with room, was refused storage_failed with no storage:<cause> flag,
    so the guard's panel showed the full-disk words 未能记录（磁盘已满？）…请清理数据目录的磁盘空间 and
    he deleted files for nothing. It is flagged storage:fault and worded so: open by hand, send the log."""
    site = start_site(make_config(tmp_path / "data"))
    gw = site.gw
    try:

        def fault(*_a: object, **_k: object) -> None:
            raise RuntimeError("a fault of the gateway's own")

        monkeypatch.setattr(gw.parking, "prepare", fault)
        at_door = Presented("door", "card", CARD, 1.0, gw.now(), "door-reader")
        ev = gw.on_worker(lambda c: gw.handle(at_door)).result(10)
    finally:
        gw.stop()
    assert ev.reason == "storage_failed", ev
    assert "storage:fault" in ev.flags, ev.flags
    shown, english = _panel_words(ev), _panel_words(ev, "en")
    assert not _says_full_disk(shown) and not _says_full_disk(english), (shown, english)
    assert "网关内部错误" in shown and "开闸" in shown and "日志" in shown, shown
    assert "log" in english and "Open" in english, english


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs the Debian chromium package (scripts/system-deps)")
def test_the_panel_of_a_decision_fault_says_so_in_a_browser(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    browser: object,  # noqa: F811
) -> None:
    """The same on the live page, in a real Chromium: the cause in words, said once."""
    with served(make_config(tmp_path / "data")) as (site, url):

        def fault(*_a: object, **_k: object) -> None:
            raise RuntimeError("a fault of the gateway's own")

        monkeypatch.setattr(site.gw.parking, "prepare", fault)
        page = page_at(browser, url, PORTRAIT)
        following_the_stream(page)
        site.traffic.show("door-reader", "card", CARD)
        page.wait_for_selector("#lane-door [data-latest].refused")
        shown = page.inner_text("#lane-door [data-latest]")
        page.close()
    assert "网关内部错误" in shown and "开闸" in shown, shown
    assert not _says_full_disk(shown) and "storage:" not in shown, shown


def test_the_panels_plain_storage_failed_words_name_no_full_disk() -> None:
    """An event refused storage_failed with no cause (none is sent without one now; a page open
    across an upgrade may get one) fell back to the full-disk words: neutral, it names no cause."""
    for language in ("zh", "en"):
        plain = js_texts(language)["why.storage_failed"]
        assert not _says_full_disk(plain), plain
    for cause in ("full", "unwritable", "locked", "damaged", "fault"):
        assert f"why.storage_failed.{cause}" in js_texts("zh"), cause
        assert f"err.storage_failed.{cause}" in js_texts("zh"), cause


def test_an_sqlite_error_that_is_no_storages_is_a_fault_not_a_card_to_replace(tmp_path: Path) -> None:
    """storage_cause called every SQLite error not full, locked or damaged "unwritable": a schema
    error or a constraint of a bug sent the installer to replace an SD card that is fine. Only
    storage's own errors (I/O, read-only, cannot open; the probe's EROFS) are unwritable."""
    with closing(sqlite3.connect(tmp_path / "x.db")) as conn:
        conn.execute("CREATE TABLE t (x UNIQUE)")
        conn.execute("INSERT INTO t VALUES (1)")
        faults: list[sqlite3.Error] = []
        for sql in ("INSERT INTO t VALUES (1)", "SELECT * FROM no_such_table"):
            try:
                conn.execute(sql)
            except sqlite3.Error as exc:
                faults.append(exc)
    assert len(faults) == 2
    for exc in faults:
        assert storage_cause(exc, tmp_path) == "fault", exc
    fix = storage_fix("fault", tmp_path)
    assert "replace" not in fix and "free disk space" not in fix and "dmesg" not in fix, fix
    assert "fault of the gateway" in fix and "log" in fix, fix
    storage_own = [
        sqlite3.OperationalError("disk I/O error"),
        sqlite3.OperationalError("attempt to write a readonly database"),
        sqlite3.OperationalError("unable to open database file"),
        OSError(errno.EROFS, "Read-only file system"),
    ]
    for exc in storage_own:
        assert storage_cause(exc, tmp_path) == "unwritable", exc


def test_a_decision_batch_failing_on_a_fault_says_so_with_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A decision that fails with an SQLite error of a bug (a query on a table that is not there)
    fails its batch storage_failed, as any SQLite error does. The journal's line said to replace or
    repair the card (see dmesg), with no traceback; the panel said the data disk takes no writes."""
    site = start_site(make_config(tmp_path / "data"))
    gw = site.gw
    try:

        def a_bug(*_a: object, **_k: object) -> None:
            gw.conn.execute("SELECT * FROM no_such_table")

        monkeypatch.setattr(gw.parking, "prepare", a_bug)
        with caplog.at_level(logging.ERROR, logger="gateway.runtime.gateway"):
            ev = gw.on_worker(
                lambda c: gw.handle(Presented("door", "card", CARD, 1.0, gw.now(), "door-reader"))
            ).result(10)
    finally:
        gw.stop()
    assert ev.reason == "storage_failed" and "storage:fault" in ev.flags, ev
    [line] = [r for r in caplog.records if "cannot record" in r.getMessage()]
    said = line.getMessage()
    assert "dmesg" not in said and "replace" not in said and "free disk space" not in said, said
    assert "fault of the gateway" in said and line.exc_info is not None, said


def test_a_guards_change_failing_on_a_fault_is_not_told_to_replace_the_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A guard's change that fails with an SQLite error of a bug was answered 503 storage_failed,
    state `unwritable`: its fix said to replace or repair the card, the toast 数据盘无法写入. Its
    state is `fault`, worded so, and the journal has the traceback the fix asks to be sent."""
    site = start_site(make_config(tmp_path / "data"))
    try:

        def a_bug(conn: sqlite3.Connection, *_a: object, **_k: object) -> None:
            conn.execute("SELECT * FROM no_such_table")

        monkeypatch.setattr(registry_store, "set_blocked", a_bug)
        with caplog.at_level(logging.ERROR), TestClient(create_app(site.gw)) as client:
            r = client.post(
                "/api/credentials/block",
                json={"kind": "card", "value": CARD, "reason": "业主报失"},
                headers=bearer(site.guard_token),
            )
    finally:
        site.gw.stop()
    assert r.status_code == 503, r.text
    error = r.json()["error"]
    assert (error["code"], error["state"]) == ("storage_failed", "fault"), error
    assert "replace" not in error["fix"] and "free disk space" not in error["fix"], error
    toast = js_texts("zh")["err.storage_failed.fault"]
    assert not _says_full_disk(toast) and "无法写入" not in toast and "日志" in toast, toast
    assert any(r.exc_info and "no_such_table" in str(r.exc_info[1]) for r in caplog.records)


# -- the MQTT command reply, and the commands' journal line ---------------------------------------


def _command(site: Site, name: str, args: dict[str, str]) -> bytes:
    now = site.gw.now()
    body = {
        "v": 1,
        "type": "command",
        "id": str(uuid.uuid4()),
        "site": site.gw.site.config.site.id,
        "name": name,
        "args": args,
        "actor": "zhang",
        "issued_at": now.isoformat(),
        "expires_at": (now + timedelta(seconds=60)).isoformat(),
    }
    return json.dumps(sign(body, KEY)).encode()


def _commands(site: Site) -> Commands:
    path = site.gw.site.config.command_key_path
    path.write_text(KEY.decode() + "\n")
    path.chmod(0o600)
    return Commands(site.gw, resync=lambda reason: None, inbox=None)  # type: ignore[arg-type]


def test_the_mqtt_reply_to_a_command_refused_on_a_failed_card_says_what_the_card_needs(
    on_card: tuple[Site, Card],
) -> None:
    """A command accepted while the card took no writes, whose action is then refused for want of
    storage, is answered storage_failed upstream: its fix said "free disk space in the gateway's
    data directory" whatever the cause. (Reached only when its acceptance was written between the
    two, a race: the reply's words are tested alone, with what the failed card says.)"""
    site, card = on_card
    exc = _card_error(card)
    cmd = verify(_command(site, "open_lane", {"lane": "door"}), KEY, "test-site", site.gw.now(), 300, 60)
    reply = _storage_failed(cmd, exc, site.gw.data_dir)
    assert reply["code"] == "storage_failed", reply
    assert "free disk space" not in reply["fix"] and "takes no writes" in reply["fix"], reply
    assert str(card.mount) in reply["fix"] and "send the command again" in reply["fix"], reply


def test_a_command_not_done_on_a_failed_card_says_what_the_card_needs(
    on_card: tuple[Site, Card], caplog: pytest.LogCaptureFixture
) -> None:
    """The centre's set_lane_mode normal, judged a release that goes ahead on a failed card (its
    acceptance kept in memory), meets a closed lane whose reopening needs its record: not done, left
    for the next start. The journal's line said `fix=free disk space in the data directory`."""
    site, card = on_card
    commands = _commands(site)
    try:
        close = {"lane": "car-in", "mode": "closed", "reason": "事故"}
        closed = commands.run(_command(site, "set_lane_mode", close))
        assert closed is not None and closed["ok"], closed
        card.fail()
        site.gw.by_hand.needs_record = lambda lane, mode: False  # type: ignore[method-assign]
        reopen = _command(site, "set_lane_mode", {"lane": "car-in", "mode": "normal", "reason": "事故已处理"})
        with caplog.at_level(logging.ERROR, logger="gateway.sync.commands"), pytest.raises(sqlite3.Error):
            commands.run(reopen)
    finally:
        commands.stop()
    said = [r.getMessage() for r in caplog.records]
    [line] = [m for m in said if "not done: its record cannot be stored" in m]
    assert "free disk space" not in line and "takes no writes" in line, line


# -- commands run at the console --------------------------------------------------------------------


def _config_on(card: Card, tmp_path: Path) -> Path:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(card.mount), encoding="utf-8")
    return config


def _gateway_command(*args: str) -> int:
    """`gateway ARGS` in this process, the test's logging kept (setup_logging replaces it)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        return cli.main(list(args))
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def _inside_list(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "inside.csv", "plate,entered_at,vehicle_class,zone\n苏E12345,,,\n")


def test_import_inside_whose_rows_a_failing_card_refuses_says_what_the_card_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gateway import-inside`: the card fails as the cars are recorded. The command's error (the
    CLI's own words for an SQLite error) said "otherwise free disk space in the data directory or
    check its permissions", or sent a failing card's read-only error to chown."""
    with sd_card(tmp_path / "data") as card:
        config = _config_on(card, tmp_path)
        recorded = parking_inside.record_inside

        def the_card_fails_first(*args: object, **kwargs: object) -> object:
            card.fail()
            return recorded(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(parking_inside, "record_inside", the_card_fails_first)
        status = _gateway_command("import-inside", "-c", str(config), str(_inside_list(tmp_path)))
    said = capsys.readouterr().err
    assert status != 0, said
    assert "free disk space" not in said and "takes no writes" in said, said
    assert str(card.mount) in said, said


def test_a_commands_sqlite_error_of_a_bug_says_so_with_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An SQLite error of a bug in a command (a query on a table that is not there) was told "free
    disk space ... or check its permissions", with no traceback to send: it says it is a fault of
    the gateway, to send its output, and the traceback is in it."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")

    def a_bug(conn: sqlite3.Connection, *_a: object, **_k: object) -> object:
        return conn.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(parking_inside, "record_inside", a_bug)
    status = _gateway_command("import-inside", "-c", str(config), str(_inside_list(tmp_path)))
    said = capsys.readouterr()
    assert status != 0, said.err
    assert "fault of the gateway" in said.err and "free disk space" not in said.err, said.err
    assert "Traceback" in said.out + said.err and "no_such_table" in said.out + said.err, said


def test_import_inside_whose_stream_a_failing_card_refuses_says_what_the_card_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gateway import-inside` on a new database: its outbox stream is started first, and the card
    fails then. Its fix said "if the database is busy ... run it again; otherwise free disk space in
    the data directory or check its permissions"."""
    with sd_card(tmp_path / "data") as card:
        config = _config_on(card, tmp_path)
        checked = outbox_stream.check_outbox_stream

        def the_card_fails_first(*args: object, **kwargs: object) -> str:
            card.fail()
            return checked(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(outbox_stream, "check_outbox_stream", the_card_fails_first)
        status = _gateway_command("import-inside", "-c", str(config), str(_inside_list(tmp_path)))
    said = capsys.readouterr().err
    assert status != 0 and "the cars inside could not be recorded" in said, said
    assert "free disk space" not in said and "takes no writes" in said, said


def test_export_plates_whose_audit_row_the_failed_card_refuses_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gateway export-plates`: the crops are written (to another disk), and the card fails before
    their audit row (plates.export) is. Its fix said "otherwise free disk space in the data
    directory or check its permissions"."""
    with sd_card(tmp_path / "data") as card:
        db = open_database(card.mount / DB_NAME)
        exported = plate_crops._export

        def then_the_card_fails(*args: object) -> plate_crops.CropExport:
            done = exported(*args)  # type: ignore[arg-type]
            card.fail()
            return done

        monkeypatch.setattr(plate_crops, "_export", then_the_card_fails)
        try:
            with pytest.raises(StorageError) as refused:
                plate_crops.export_plate_crops(
                    db.conn, card.mount, tmp_path / "crops", None, "office", datetime.now(TZ)
                )
        finally:
            db.conn.close()
    assert "plates.export" in refused.value.message, refused.value
    assert "free disk space" not in refused.value.fix and "takes no writes" in refused.value.fix


# -- the journal's lines -----------------------------------------------------------------------------


def test_outbox_marks_a_failed_card_refuses_say_what_the_card_needs(
    on_card: tuple[Site, Card], caplog: pytest.LogCaptureFixture
) -> None:
    """The broker acknowledged records; their sent marks are not written on the failed card. The
    link's line said "fix: free disk space in the data directory ... if the disk is full"."""
    site, card = on_card
    outbox = LinkOutbox(site.gw, Topics("estate", "test-site"), queue.Queue())
    card.fail()
    with caplog.at_level(logging.ERROR, logger="gateway.sync.link_outbox"):
        outbox._write_marks([(1, 1)])
        wait_for(lambda: any("marks not written" in r.getMessage() for r in caplog.records), timeout=10)
    [line] = [r.getMessage() for r in caplog.records if "outbox marks not written" in r.getMessage()]
    assert "free disk space" not in line and "takes no writes" in line, line


def test_a_stay_not_put_back_on_a_failed_card_says_what_the_card_needs(
    on_card: tuple[Site, Card], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The resident's car is let out on record; the exit's barrier does not open, its relay board and
    the card gone with one power dip (a fake at the hardware edge). Its stay, put back open, is not
    stored: the journal's line said "fix=if the disk is full, free space in DATA"."""
    site, card = on_card
    gw = site.gw
    relay = gw.devices.lanes["car-out"].relays[0]

    def gone(seconds: float, ref: str = "") -> None:
        card.fail()
        raise OSError(errno.EIO, "Input/output error")

    def look(lane: str, ago: timedelta = timedelta(0)) -> AccessEvent:
        seen = Presented(lane, "plate", PLATE, 1.0, gw.now() - ago, f"{lane}-camera")
        return gw.on_worker(lambda c: gw.handle(seen)).result(10)

    # In a minute ago: an exit read within SAME_PASSAGE of the car's entry is the exit camera
    # seeing the car in the entrance lane beside it, no passage (docs/parking.md).
    assert look("car-in", timedelta(minutes=1)).admitted
    monkeypatch.setattr(relay, "pulse", gone)
    with caplog.at_level(logging.ERROR, logger="gateway.runtime.gateway"):
        assert look("car-out").admitted
        gw.on_worker(lambda c: None).result(10)
    [line] = [r.getMessage() for r in caplog.records if "still out on record" in r.getMessage()]
    assert "free space" not in line and "takes no writes" in line, line
    assert "record it inside" in line, line
