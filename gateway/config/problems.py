"""Config problems: each with its path, the value found, what is wrong, the fix and the file's line."""

from __future__ import annotations

import difflib
import json
import re
import typing
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ValidationError

from drivers.urls import is_secret_name, redact_url, redact_urls

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    path: Loc
    message: str
    value: Any = None
    fix: str = ""
    line: int | None = None
    secret: bool = False  # the value may be a password (names_a_secret says so of more): never shown

    def render(self, filename: str) -> str:
        where = f"{filename}:{self.line}" if self.line else filename
        text = f"{where}: {dotted(self.path) or '(top level)'}: {redact_urls(self.message)}"
        if self.value is not None and (self.secret or names_a_secret(self.path)):
            # Printed to stderr and the journal: a broker password typed as `password = "..."`
            # is refused (the key is password_file), and must not be shown for it.
            text += " (value not shown: it may be a secret)"
        elif self.value is not None and not isinstance(self.value, dict | list):
            # Printed to stderr and the journal: a camera url's password is not shown. The value
            # is taken whole first (a url refused for a space in its password), then as text.
            value = redact_urls(redact_url(self.value)) if isinstance(self.value, str) else self.value
            text += f" (found {value!r})"
        if self.fix:
            text += f"\n    fix: {redact_urls(self.fix)}"
        return text


class ConfigError(Exception):
    """The config file cannot be used; `problems` says every reason at once."""

    def __init__(self, filename: str, problems: Sequence[Problem]):
        self.filename = filename
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        head = f"{len(self.problems)} problem(s) in {self.filename}:"
        return "\n".join([head, *(p.render(self.filename) for p in self.problems)])


def names_a_secret(path: Loc) -> bool:
    """Whether the key at `path` (its last name) says that its value is a password, key or token:
    the words a camera url's parameter is hidden by too (drivers.urls.is_secret_name), but `auth`
    only as the whole name, as auth_retry_s is a delay."""
    name = next((str(part) for part in reversed(path) if isinstance(part, str)), "")
    return is_secret_name(name)


def _holds_credentials(root: type[BaseModel], table: Loc) -> bool:
    """Whether the table at `table` has a user name or a secret among its keys ([mqtt]): a key
    unknown there may be a password under another name (pw, pass_word)."""
    return any(name in ("user", "username") or names_a_secret((name,)) for name in _fields_at(root, table))


def dotted(path: Loc) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def from_validation(
    exc: ValidationError, root: type[BaseModel], given: dict[str, Any] | None = None
) -> list[Problem]:
    """The problems pydantic found; `given` is the file's TOML, so that a fix never tells the user to
    write a key where the file already sets it."""
    problems = []
    for err in exc.errors():
        raw = tuple(err["loc"])
        path = tuple(p for p in raw if not _is_union_tag(p))
        message = err["msg"].removeprefix("Value error, ")
        fix = _fix_for(err, raw, root, given or {})
        value = None if err["type"] == "missing" else err.get("input")
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            # pydantic names the table; the user wrote (or forgot) its tag key, e.g. driver.
            key = str(err.get("ctx", {}).get("discriminator", "")).strip("'")
            path += (key,)
            value = err.get("ctx", {}).get("tag")
            message = f"unknown {key}" if value is not None else f"no {key} given"
        unknown_among_credentials = err["type"] == "extra_forbidden" and _holds_credentials(root, raw[:-1])
        problems.append(Problem(path, message, value, fix, secret=unknown_among_credentials))
    return problems


def _is_union_tag(part: str | int) -> bool:
    # pydantic puts the chosen member of a tagged union in the path ("simulated"); users never wrote it.
    return isinstance(part, str) and part in _UNION_TAGS


_UNION_TAGS: set[str] = set()


def register_union_tags(*tags: str) -> None:
    _UNION_TAGS.update(tags)


def _fix_for(err: Any, raw: Loc, root: type[BaseModel], given: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return _fix_for_unknown_key(raw, root, given)
    if kind == "missing":
        return f"add {raw[-1]!r} here"
    if kind in ("literal_error", "enum"):
        return _fix_for_choice(raw, err.get("input"), err.get("ctx", {}).get("expected", ""), root)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        ctx = err.get("ctx", {})
        key = str(ctx.get("discriminator", "")).strip("'")
        tags = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",") if t.strip()]
        tags = tags or sorted(_UNION_TAGS)
        guess = difflib.get_close_matches(str(ctx.get("tag", "")), tags, n=1)
        hint = f"did you mean {guess[0]!r}? " if guess else ""
        return f"{hint}set {key} to one of: {', '.join(tags)}"
    if kind == "string_pattern_mismatch":
        return "use lower-case letters, digits, - and _ (for example north-in)"
    if kind in _BOUNDS:
        word, key = _BOUNDS[kind]
        bound = err.get("ctx", {}).get(key, "?")
        return f"set it to {word.format(f'{bound:g}' if isinstance(bound, float) else bound)}"
    if kind in ("string_type", "list_type"):
        return _fix_for_other_form(kind, raw, err.get("input"), root)
    if kind in ("model_type", "dict_type"):
        return _fix_for_table(raw, err.get("input"), root)
    if kind.startswith(("int_", "float_", "bool_", "date_")):
        return _fix_for_scalar(kind, raw, err.get("input"))
    return ""


def _fix_for_unknown_key(raw: Loc, root: type[BaseModel], given: dict[str, Any]) -> str:
    """A key another table has was most often written under the wrong header: removing it, as the
    list of keys here says, would drop the setting, and renaming it to a close match here would set
    another thing (daily_cap_fen after [parking.tariffs.car.night] is the car's cap, not the night's
    cap_fen). Only a close match here that holds the key's words whole is a slip for it before its
    home (cert_file in [http] is tls_cert_file, not [mqtt]'s cert_file; port is no slip for reports).
    No key the table already sets is offered as the rename, and no table that already sets the key
    is named as its home: followed, either fix makes a duplicate key, and the file does not load."""
    key = str(raw[-1])
    known = _fields_at(root, raw[:-1])
    set_here = _set_at(given, raw[:-1])
    keys_here = ", ".join(sorted(known))
    guess = difflib.get_close_matches(key, [name for name in known if name not in set_here], n=1)
    if guess and f"_{key}_" in f"_{guess[0]}_":
        return f"did you mean {guess[0]!r}? remove the key or use one of: {keys_here}"
    homes = [
        home
        for home in _homes_of(root, key)
        if home.header != _header_of(raw[:-1]) and not _already_set(given, home, key)
    ][:3]
    if homes and all(home.is_table for home in homes):
        return f"{key} is a table of its own, written {' or '.join(h.header for h in homes)}: use that header"
    if homes:
        tables = " or ".join(home.header for home in homes)
        which = "that header" if len(homes) == 1 else "the one it belongs to"
        return (
            f"{key} is a key of {tables}: move it under {which}; TOML puts a key under the "
            f"header above it (the keys here are: {keys_here or 'none'})"
        )
    if guess:
        return f"did you mean {guess[0]!r}? remove the key or use one of: {keys_here}"
    taken = difflib.get_close_matches(key, sorted(set_here.intersection(known)), n=1)
    if taken:
        return (
            f"did you mean {taken[0]!r}? it is set here already: remove the key "
            f"(the keys here are: {keys_here})"
        )
    return f"remove the key or use one of: {keys_here}"


def _set_at(given: dict[str, Any], path: Loc) -> set[str]:
    """The keys the file sets in the table at `path` (pydantic's location of it)."""
    table: Any = given
    for part in path:
        if _is_union_tag(part):
            continue
        if isinstance(part, int):
            table = table[part] if isinstance(table, list) and -len(table) <= part < len(table) else None
        else:
            table = table.get(part) if isinstance(table, dict) else None
    return set(table) if isinstance(table, dict) else set()


class _Home(typing.NamedTuple):
    """Where a key is written: under `header`, in the table at `table` (its names), itself a table
    (`is_table`) or a key."""

    header: str
    is_table: bool
    table: tuple[str, ...]


def _homes_of(root: type[BaseModel], key: str) -> list[_Home]:
    """The headers under which `key` is written in the site config: [http] for listen,
    [[parking.tariffs]] (itself a table) for tariffs."""
    found: list[_Home] = []

    def walk(model: type[BaseModel], names: tuple[str, ...], is_array: bool) -> None:
        field = model.model_fields.get(key)
        if field is not None and names:
            inner = _inner_models(field.annotation)
            home = (
                _Home(_header(names + (key,), _is_array(field.annotation)), True, names)
                if inner
                else _Home(_header(names, is_array), False, names)
            )
            if home not in found:
                found.append(home)
        for name, sub in model.model_fields.items():
            for member in _inner_models(sub.annotation):
                walk(member, names + (name,), _is_array(sub.annotation))

    for name, field in root.model_fields.items():
        if name == key and _inner_models(field.annotation):
            found.append(_Home(_header((key,), _is_array(field.annotation)), True, ()))
        for member in _inner_models(field.annotation):
            walk(member, (name,), _is_array(field.annotation))
    return found


def _already_set(given: dict[str, Any], home: _Home, key: str) -> bool:
    """Whether the file sets `key` in every table written under `home`'s header, so that moving it
    there makes a duplicate key. Another [[...]] table of its own may always be added."""
    if home.header.startswith("[[") and home.is_table:
        return False
    tables: list[Any] = [given]
    for name in home.table:
        inner = [table.get(name) for table in tables if isinstance(table, dict)]
        tables = [item for value in inner for item in (value if isinstance(value, list) else [value])]
    written = [table for table in tables if isinstance(table, dict)]
    return bool(written) and all(key in table for table in written)


def _header_of(path: Loc) -> str:
    names = tuple(str(p) for p in path if isinstance(p, str) and not _is_union_tag(p))
    return _header(names, bool(path) and isinstance(path[-1], int))


def _header(names: tuple[str, ...], is_array: bool) -> str:
    dotted_names = ".".join(names)
    return f"[[{dotted_names}]]" if is_array else f"[{dotted_names}]"


def _is_array(annotation: Any) -> bool:
    return typing.get_origin(annotation) is list


def _fix_for_choice(raw: Loc, found: Any, expected: str, root: type[BaseModel]) -> str:
    """One of a few values: a number among them typed in quotes (baudrate = "9600") is text to TOML,
    and is told to lose its quotes; "use one of 1200, ... 9600" named what the installer wrote."""
    number = _number_in_quotes(found)
    if number is not None and number in _choices(_field_at(root, raw)):
        return f"write {_key_of(raw)} = {number} without quotes (a number in quotes is text)"
    return f"use one of {expected}"


def _number_in_quotes(found: Any) -> int | None:
    try:
        return int(found.strip()) if isinstance(found, str) else None
    except ValueError:
        return None


def _choices(field: Any) -> set[Any]:
    """The values a Literal field takes (through `| None` and Annotated)."""
    if field is None:
        return set()
    found: set[Any] = set()
    pending = [field.annotation]
    while pending:
        annotation = pending.pop()
        if typing.get_origin(annotation) is typing.Literal:
            found.update(typing.get_args(annotation))
        else:
            pending += typing.get_args(annotation)
    return found


def _fix_for_table(raw: Loc, found: Any, root: type[BaseModel]) -> str:
    """A table written in another form: [[policy]] (a list of tables) for [policy], night = [1] or
    capacity = 10 for a table of keys; or, in a list of tables, a value for one of them."""
    key = _key_of(raw)
    models = _inner_models(getattr(_field_at(root, raw), "annotation", None))
    keys = ", ".join(models[0].model_fields) if len(models) == 1 else ""
    listing = f" ({keys})" if keys else ""
    header = _header_of(raw)
    if isinstance(raw[-1], int):
        return f"each of {key} is a table: write its keys{listing} under a {header} header of its own"
    if isinstance(found, list) and found and all(isinstance(item, dict) for item in found):
        return (
            f"{key} is one table: write its header {header} with one bracket each side, once "
            f"({_header_of(raw + (0,))} makes a list of tables)"
        )
    form = "a list" if isinstance(found, list) else "one value"
    first = next(iter(models[0].model_fields), "...") if len(models) == 1 else "..."
    return (
        f"{key} is a table, not {form}: write its keys{listing} under a {header} header, or inline: "
        f"{key} = {{ {first} = ... }}"
    )


def _fix_for_other_form(kind: str, raw: Loc, found: Any, root: type[BaseModel]) -> str:
    """A list where one value in quotes is wanted, or the reverse: a lane's hours are a list, a
    patrol route's or a night rate's one string. The fix shows the value found in the right form.
    A list of tables ([[lanes]]) written once as [lanes] or as a value is told its header: a list
    in brackets of strings would be refused again."""
    key = _key_of(raw)
    field = _field_at(root, raw)
    if kind == "list_type" and field is not None and _inner_models(field.annotation):
        header = _header_of(raw + (0,))
        return (
            f"{key} is a list of tables: write each under a {header} header (two brackets each "
            f"side), one header for each"
        )
    if kind == "list_type":
        items = [part.strip() for part in found.split(",") if part.strip()] if isinstance(found, str) else []
        example = _toml(items or ["..."]) if not names_a_secret(raw) else '["..."]'
        return f"{key} takes a list in brackets: {key} = {example}"
    if isinstance(raw[-1], int):
        return f"write each value of {key} in quotes"
    one = found[0] if isinstance(found, list) and found else found
    shown = isinstance(one, str | int | float) and not names_a_secret(raw)
    example = _toml(str(one)) if shown else '"..."'
    form = "one value in quotes, not a list" if isinstance(found, list) else "a value in quotes"
    return f"{key} takes {form}: {key} = {example}"


def _fix_for_scalar(kind: str, raw: Loc, found: Any) -> str:
    """What to write for a number, true/false or a date: quotes are named only where there were
    some, and a price typed in yuan is converted to fen."""
    word = _SCALAR_WORDS[kind.split("_")[0]]
    key = _key_of(raw)
    if kind == "int_from_float":  # a number with a fractional part
        fix = "write a whole number"
    elif isinstance(found, str):
        fix = f"write {word} without quotes"
    else:
        fix = f"write {word}"
    if kind.startswith("int_") and key.endswith("_fen"):
        yuan = found if isinstance(found, int | float) and not isinstance(found, bool) else 5
        fix += f": prices are in fen (分), {yuan:g}元 is {round(yuan * 100)}"
        if isinstance(found, float) and found.is_integer():
            # earlier versions took it as fen: the price charged till now is the other reading
            fix += f" (earlier versions charged {found:g} fen for it: write {found:g} to keep that price)"
    return fix


_SCALAR_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "date": "a date such as 2025-01-01",
}


def _key_of(raw: Loc) -> str:
    return next((str(part) for part in reversed(raw) if isinstance(part, str)), "the value")


def _toml(value: Any) -> str:
    # A TOML basic string or array of them is written as JSON writes it.
    return json.dumps(value, ensure_ascii=False)


# pydantic's bound checks (Field(ge=...) and the like): the fix names the bound.
_BOUNDS = {
    "greater_than_equal": ("{} or more", "ge"),
    "greater_than": ("more than {}", "gt"),
    "less_than_equal": ("{} or less", "le"),
    "less_than": ("less than {}", "lt"),
    "too_short": ("at least {} item(s)", "min_length"),
    "too_long": ("at most {} item(s)", "max_length"),
    "string_too_short": ("at least {} character(s)", "min_length"),
    "string_too_long": ("at most {} character(s)", "max_length"),
}


def _fields_at(root: type[BaseModel], path: Loc) -> list[str]:
    """The keys a table at `path` may have; a union member is picked by its tag in the path."""
    models = _models_at(root, path)
    return list(models[0].model_fields) if len(models) == 1 else []


def _field_at(root: type[BaseModel], path: Loc) -> Any:
    """The field (pydantic's FieldInfo) of the key at `path`, an item's index after it skipped:
    lanes for lanes[0]; None where the path names no one field."""
    names = path
    while names and (isinstance(names[-1], int) or _is_union_tag(names[-1])):
        names = names[:-1]
    models = _models_at(root, names[:-1]) if names else []
    return models[0].model_fields.get(str(names[-1])) if len(models) == 1 else None


def _models_at(root: type[BaseModel], path: Loc) -> list[Any]:
    """The model of the table at `path` (several for a union whose tag the path does not give)."""
    models: list[Any] = [root]
    for part in path:
        if isinstance(part, int):
            continue
        if _is_union_tag(part) and len(models) > 1:
            models = [m for m in models if _has_tag(m, part)]
            continue
        if len(models) != 1:
            return []
        field = models[0].model_fields.get(part)
        if field is None:
            return []
        models = _inner_models(field.annotation)
        if not models:
            return []
    return models


def _inner_models(annotation: Any) -> list[Any]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[Any] = []
    for arg in getattr(annotation, "__args__", ()):
        found += _inner_models(arg)
    return found


def _has_tag(model: Any, tag: str) -> bool:
    return any(
        typing.get_origin(f.annotation) is typing.Literal and tag in typing.get_args(f.annotation)
        for f in model.model_fields.values()
    )


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]+\")\s*=")


def line_index(text: str) -> dict[Loc, int]:
    """Map each table and key path in a TOML text to its line number (1-based)."""
    index: dict[Loc, int] = {}
    counters: dict[tuple[str, ...], int] = {}
    current: Loc = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            names = tuple(n.strip().strip('"') for n in header.group(2).split("."))
            if header.group(1) == "[[":
                counters[names] = counters.get(names, -1) + 1
            current = _with_indices(names, counters)
            if header.group(1) == "[[":
                # The whole array (an unknown [[tarifs]], or one too short) is at its first header.
                index.setdefault(current[:-1], number)
            index.setdefault(current, number)
            continue
        key = _KEY.match(line)
        if key:
            index.setdefault(current + (key.group(1).strip('"'),), number)
    return index


def _with_indices(names: tuple[str, ...], counters: dict[tuple[str, ...], int]) -> Loc:
    loc: list[str | int] = []
    for i, name in enumerate(names):
        loc.append(name)
        prefix = names[: i + 1]
        if prefix in counters:
            loc.append(counters[prefix])
    return tuple(loc)


def with_lines(problems: list[Problem], index: dict[Loc, int]) -> list[Problem]:
    placed = []
    for p in problems:
        path = p.path
        line = None
        while path and line is None:
            line = index.get(path)
            path = path[:-1]
        placed.append(replace(p, line=line))
    return placed
