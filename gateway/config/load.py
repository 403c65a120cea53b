"""Reading a site config file: TOML, then the models, then the checks across sections."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from gateway.config.crosscheck import cross_check
from gateway.config.models import Mqtt, SiteConfig
from gateway.config.problems import ConfigError, Problem, from_validation, line_index, with_lines

EX_CONFIG = 78  # sysexits.h: systemd's RestartPreventExitStatus stops a restart loop on it


def load_config(path: str | Path) -> SiteConfig:
    """The validated config with data_dir made absolute; ConfigError lists every problem."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            name,
            [
                Problem(
                    (),
                    "the file does not exist",
                    fix="give the path of a site config, e.g. config/demo.toml",
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
    return parse_config(text, name, base_dir=path.resolve().parent)


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
        raise ConfigError(name, with_lines(from_validation(exc, SiteConfig), index)) from exc
    problems = cross_check(cfg)
    if problems:
        raise ConfigError(name, with_lines(problems, index))
    if base_dir is not None and not cfg.site.data_dir.is_absolute():
        site = cfg.site.model_copy(update={"data_dir": (base_dir / cfg.site.data_dir).resolve()})
        cfg = cfg.model_copy(update={"site": site})
    if base_dir is not None:
        cfg = cfg.model_copy(update={"mqtt": _absolute_files(cfg.mqtt, base_dir)})
    return cfg


def _absolute_files(mqtt: Mqtt, base_dir: Path) -> Mqtt:
    """Key, certificate and password files named relative to the config file, like data_dir."""
    names = ("password_file", "ca_file", "cert_file", "key_file", "command_key_file")
    update = {
        name: (base_dir / path).resolve()
        for name in names
        if (path := getattr(mqtt, name)) is not None and not path.is_absolute()
    }
    return mqtt.model_copy(update=update) if update else mqtt
