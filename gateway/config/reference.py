"""The config reference (docs/config.md), made from the models' titles and descriptions.

Regenerate with:  python -m gateway.config.reference > docs/config.md
"""

from __future__ import annotations

import sys
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from gateway.config.models import SiteConfig

SECTIONS_AS_ARRAYS = {"zones", "gates", "lanes", "devices", "closed_management", "tariffs", "routes"}


def render() -> str:
    out = [
        "# Site config reference",
        "",
        "One TOML file per site. Check it with `gateway check-config FILE`; unknown keys are errors. Where",
        "its `data_dir` holds the gateway's database, check-config also warns of what the next start would",
        "say of the store against the file (a tariff edited in place, slots or parked cars in a zone no",
        "entrance leads to), reading it only: run as another user than the service's (root too: SQLite",
        "as root would hand the database's -wal and -shm files to their owner), it says to run it as",
        "the service's user to check the store, with the line to run (`sudo -u estate-gateway",
        "/opt/estate-gateway/venv/bin/gateway check-config /etc/estate-gateway/site.toml`: sudo's PATH",
        "lacks the venv's command).",
        'The file is UTF-8 text; a byte-order mark at its start (Windows Notepad\'s "UTF-8 with BOM") '
        "is allowed. Values are taken as TOML types them: true/false and numbers without quotes "
        '(`enabled = "NO"` or `car = "10"` is refused); a whole number is taken for a decimal one.',
        "A relative path to a file or folder (data_dir, the [mqtt] and [http] TLS files, a simulated "
        "relay's pulse_log) is read from the config file's folder, wherever the gateway is started from.",
        "Generated from the models in `gateway/config/models.py` by `python -m gateway.config.reference`.",
        "",
    ]
    _model(SiteConfig, "", out)
    return "\n".join(out) + "\n"


def _model(model: type[BaseModel], prefix: str, out: list[str]) -> None:
    rows, nested = [], []
    for name, field in model.model_fields.items():
        inner = _inner_models(field.annotation)
        if inner:
            nested.append((name, field, inner))
            continue
        rows.append(
            f"| `{name}` | {_type(field.annotation)} | {_default(field)} | "
            f"{field.title or ''}: {field.description or ''} |"
        )
    if rows:
        out += ["| key | type | default | meaning |", "|---|---|---|---|", *rows, ""]
    for name, field, inner in nested:
        path = f"{prefix}.{name}" if prefix else name
        header = f"[[{path}]]" if name in SECTIONS_AS_ARRAYS else f"[{path}]"
        out += [f"## `{header}` {field.title or ''}", "", field.description or "", ""]
        for member in inner:
            if len(inner) > 1:
                out += [f"### driver `{_literal_default(member, 'driver')}`", ""]
            _model(member, path, out)


def _inner_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _inner_models(arg)
    return found


def _type(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " / ".join(f"`{a}`" for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type(a) for a in typing.get_args(annotation))
    if origin is list:
        return f"list of {_type(typing.get_args(annotation)[0])}"
    if origin is typing.Annotated:
        return _type(typing.get_args(annotation)[0])
    return getattr(annotation, "__name__", str(annotation)).replace("NoneType", "none")


def _default(field: Any) -> str:
    if field.default is PydanticUndefined:
        return (
            "[]" if field.default_factory is list else ("required" if field.default_factory is None else "…")
        )
    return f"`{field.default}`" if field.default is not None else "none"


def _literal_default(model: type[BaseModel], name: str) -> str:
    args = typing.get_args(model.model_fields[name].annotation)
    return str(args[0]) if args else model.__name__


if __name__ == "__main__":
    sys.stdout.write(render())
