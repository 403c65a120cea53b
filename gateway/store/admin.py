"""Store operations the CLI runs against a site's database: import, export, plate crops."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from gateway.config.models import SiteConfig
from gateway.privacy import Secrets
from gateway.store.csv_export import export_all
from gateway.store.csv_import import import_files
from gateway.store.database import DB_NAME, open_database

if TYPE_CHECKING:
    from gateway.store.plate_crops import CropExport


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


def export_plates(cfg: SiteConfig, out_dir: Path, since: datetime | None, actor: str) -> CropExport:
    from gateway.store.plate_crops import export_plate_crops  # it names crops as snapshots do (cv2)

    db = open_database(cfg.site.data_dir / DB_NAME, sync=cfg.storage.sync)
    try:
        return export_plate_crops(db.conn, cfg.site.data_dir, out_dir, since, actor, datetime.now(UTC))
    finally:
        db.conn.close()
