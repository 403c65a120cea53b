"""Store operations the CLI runs against a site's database: import and export."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from gateway.config.models import SiteConfig
from gateway.privacy import Secrets
from gateway.store.csv_export import export_all
from gateway.store.csv_import import import_files
from gateway.store.database import DB_NAME, open_database


def import_csv(cfg: SiteConfig, files: list[Path]) -> dict[str, int]:
    data_dir = cfg.site.data_dir
    db = open_database(data_dir / DB_NAME, sync=cfg.storage.sync)
    try:
        zones = {z.id for z in cfg.zones}
        return import_files(
            db.conn, files, ZoneInfo(cfg.site.timezone), zones, Secrets.load_or_create(data_dir)
        )
    finally:
        db.conn.close()


def export_csv(cfg: SiteConfig, out_dir: Path) -> dict[str, int]:
    db = open_database(cfg.site.data_dir / DB_NAME, sync=cfg.storage.sync)
    try:
        return export_all(db, out_dir, ZoneInfo(cfg.site.timezone))
    finally:
        db.conn.close()
