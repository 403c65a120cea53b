"""Reading a site config file: TOML, then the models, then the checks across sections."""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from gateway.config.crosscheck import cross_check, retention_warnings, timezone_warnings
from gateway.config.models import SiteConfig
from gateway.config.problems import ConfigError, Problem, from_validation, line_index, with_lines

EX_CONFIG = 78  # sysexits.h: systemd's RestartPreventExitStatus stops a restart loop on it

log = logging.getLogger(__name__)


def load_config(path: str | Path, *, warn: bool = True) -> SiteConfig:
    """The validated config with the files it names made absolute; ConfigError lists every problem.

    Its warnings (accepted, but said where the installer reads) go to the journal; `warn=False`
    for a look at a config the command loads itself (gateway/cli.py: the log's zone, the data
    directory of an error), so that each command says them once, in the site's time."""
    path = Path(path)
    name = str(path)
    try:
        # utf-8-sig: Windows Notepad saves "UTF-8 with BOM", and tomllib takes the BOM for a
        # statement ("Invalid statement (at line 1, column 1)", pointing at a valid line).
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            name,
            [
                Problem(
                    (),
                    "the file does not exist",
                    fix="give the path of a site config, e.g. /etc/estate-gateway/site.toml",
                )
            ],
        ) from None
    except IsADirectoryError:  # `check-config /etc/estate-gateway`: not a matter of permissions or UTF-8
        raise ConfigError(
            name,
            [
                Problem(
                    (),
                    "a folder, not a config file",
                    fix=f"give the config file in it, e.g. {path / 'site.toml'}",
                )
            ],
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            name,
            [
                Problem(
                    (),
                    f"cannot read the file: {exc}",
                    fix="check its permissions and that it is UTF-8 text",
                )
            ],
        ) from exc
    cfg = parse_config(text, name, base_dir=Path(os.path.abspath(path)).parent)
    for warning in [*retention_warnings(cfg), *timezone_warnings(cfg)] if warn else ():
        log.warning("%s: %s", name, warning)
    return cfg


def parse_config(text: str, name: str = "<config>", base_dir: Path | None = None) -> SiteConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            name,
            [Problem((), f"not valid TOML: {exc}", fix="correct the syntax at the line shown")],
        ) from exc
    index = line_index(text)
    try:
        cfg = SiteConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(name, with_lines(from_validation(exc, SiteConfig, raw), index)) from exc
    problems = cross_check(cfg)
    if problems:
        raise ConfigError(name, with_lines(problems, index))
    return cfg if base_dir is None else _beside(cfg, base_dir)


def _beside(value: Any, base_dir: Path) -> Any:
    """Every file the config names (data_dir, the [mqtt] keys and certificates, the [http] TLS
    files, a simulated relay's pulse_log, ...) made absolute from the config file's folder:
    `gateway check-config site.toml` run beside it and the service systemd starts in / must read
    the same files. Links are kept, not followed: a backup's RESTORE.txt names the path the config
    names (/var/lib/estate-gateway), not the disk a link on the old box led to."""
    if isinstance(value, Path):
        return value if value.is_absolute() else Path(os.path.normpath(base_dir / value))
    if isinstance(value, list):
        return [_beside(item, base_dir) for item in value]
    if isinstance(value, BaseModel):
        update = {name: _beside(getattr(value, name), base_dir) for name in type(value).model_fields}
        changed = {name: new for name, new in update.items() if new != getattr(value, name)}
        return value.model_copy(update=changed) if changed else value
    return value
