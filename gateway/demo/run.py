"""`gateway demo`: a self-contained site with simulated devices and generated traffic."""

from __future__ import annotations

import logging
from pathlib import Path

from gateway.config.models import SiteConfig
from gateway.demo.seed import write_site_csvs
from gateway.demo.traffic import DemoTraffic
from gateway.runtime.gateway import Gateway
from gateway.runtime.serve import serve
from gateway.store.admin import import_csv
from gateway.store.database import DB_NAME, open_database

log = logging.getLogger(__name__)


def seed_if_empty(cfg: SiteConfig) -> None:
    db_path = cfg.site.data_dir / DB_NAME
    db = open_database(db_path)
    empty = db.conn.execute("SELECT count(*) FROM residents").fetchone()[0] == 0
    db.conn.close()
    if not empty:
        return
    zone = cfg.zones[0].id
    paths = write_site_csvs(Path(cfg.site.data_dir) / "seed", residents=250, cards=300, slots=250, zone=zone)
    counts = import_csv(cfg, list(paths.values()))
    log.info("demo data seeded: %s", ", ".join(f"{n} {k}" for k, n in counts.items()))


def run_site(cfg: SiteConfig, started: float, stop_after: float | None = None) -> None:
    """Run a site; its simulated readers and cameras (if any) present the site's own credentials."""
    traffic = DemoTraffic(cfg.site.data_dir / DB_NAME, cfg)
    gw = Gateway(cfg, chooser_for=traffic.chooser_for)
    serve(gw, started, stop_after)


def run_demo(cfg: SiteConfig, started: float, stop_after: float | None = None) -> None:
    seed_if_empty(cfg)
    run_site(cfg, started, stop_after)
