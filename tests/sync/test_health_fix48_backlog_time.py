"""The health report the centre keeps (gateway central-sink: sites.health) gives every time in the
site's offset, as every record and the rest of the report do (docs/mqtt.md, `health`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from gateway.alarm_texts import AlarmText
from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import raise_alarm
from gateway.sync.health import health_report
from gateway.sync.service import SyncService
from tests.sync.conftest import running
from tests.sync.sync_helpers import free_port


def reported(gw: Gateway, service: SyncService) -> dict[str, Any]:
    """The health report as the link sends it (SyncLink.health), with the backlog it reads."""
    return health_report(gw, service.link.outbox.check_quota(), 0, "test", gw.now())


def test_the_health_reports_oldest_waiting_record_in_the_sites_offset(
    sync_cfg: Callable[..., SiteConfig],
) -> None:
    """The estate is on +08:00, its link down (no broker): a record waits to go up. The health report
    said it was queued at 2026-11-24T05:01:19.180000+00:00 (UTC, microseconds), beside an `at` of
    +08:00 in the same report: the centre's operator read 05:01 for a backlog begun at 13:01 local
    time. It carries the site's offset, to the second, as /api/outbox and `gateway outbox` give it."""
    with running(sync_cfg(free_port())) as (gw, service):
        text = AlarmText("forced_open", {"lane": "car-in", "device": "car-in-io"})
        queued_at = gw.now()
        gw.on_worker(lambda c: raise_alarm(c, "forced_open", "car-in", text, queued_at)).result(10)
        report = reported(gw, service)
    oldest = report["backlog"]["oldest_pending_at"]
    assert oldest is not None, f"a record waits to go up: {report['backlog']}"
    assert report["at"].endswith("+08:00"), report["at"]
    assert oldest.endswith("+08:00"), (
        f"health backlog.oldest_pending_at is {oldest}, not in the site's offset (+08:00) as the "
        f"report's at {report['at']} is"
    )
    assert datetime.fromisoformat(oldest) <= queued_at
    assert queued_at - datetime.fromisoformat(oldest) < timedelta(minutes=1)
    assert "." not in oldest, f"{oldest}: to the second, as /api/outbox gives it"


def test_the_health_report_of_an_empty_backlog_says_none_waits(sync_cfg: Callable[..., SiteConfig]) -> None:
    with running(sync_cfg(free_port())) as (gw, service):
        gw.on_worker(lambda c: c.execute("UPDATE outbox SET quarantined = 'test'")).result(10)
        report = reported(gw, service)
    assert report["backlog"]["pending"] == 0
    assert report["backlog"]["oldest_pending_at"] is None
