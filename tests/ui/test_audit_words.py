"""The audit page names what was done in the guard's language, for every action the gateway writes."""

from __future__ import annotations

import ast
import itertools
import re
from fnmatch import fnmatch
from pathlib import Path

from fastapi.testclient import TestClient

from gateway.web.audit_words import AUDIT_ACTIONS
from tests.ui.conftest import GUARD, app, client, log_in, site  # noqa: F401

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
WRITERS = ("audit", "write_audit")  # (conn, at, actor, action, ...)
# Helpers that make the action of the audit row they write from their arguments: where each is
# defined (a glob where its callers are split over several files), and how. A private one (_name)
# is one only in its own files.
BUILDERS = {
    "_changed": ("store/registry*.py", "{4}.{3}"),  # (conn, at, actor, op, entity, ...)
    "_record": ("sync/commands.py", "{1}"),  # (conn, action, ...)
    "_finish": ("sync/apply.py", "sync.apply_{1}"),  # (conn, kind, ...)
    "_record_lane": ("runtime/hand_lanes.py", "lane.{2}"),  # (lane, actor, action, ...)
    "LaneRecord": ("runtime/hand_opens.py", "lane.{2}"),  # (at, lane, action, ...)
}
UNKNOWN = "[a-z_]+"  # a part of an action the test cannot read (a parameter, a row's column)


def test_the_audit_page_in_chinese_names_what_was_done_in_chinese(client: TestClient) -> None:  # noqa: F811
    """The 操作 column showed lane.open, a code for programmers, to a guard who reads Chinese."""
    headers = log_in(client, GUARD)
    done = client.post("/api/lanes/car-in/open", json={"reason": "救护车"}, headers=headers)
    assert done.status_code == 200, done.text
    page = client.get("/audit").text
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", page, re.S) if "救护车" in r)
    what = re.findall(r"<td>(.*?)</td>", row, re.S)[2]
    assert what.startswith("手动开闸 "), f"操作 column shows {what!r}"
    assert what.endswith('<small class="muted">lane.open</small>')  # what the action filter takes


def _strings(node: ast.expr | None, names: dict[str, set[str] | None]) -> set[str] | None:
    """The strings an expression can be, or None where the test cannot tell."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):  # action = "block" if blocked else "unblock"
        body, orelse = _strings(node.body, names), _strings(node.orelse, names)
        return body | orelse if body is not None and orelse is not None else None
    if isinstance(node, ast.Name):
        return names.get(node.id)
    return None


def _parts(node: ast.expr | None, names: dict[str, set[str] | None]) -> list[set[str] | None]:
    """An f-string part by part (f"credential.{action}"), anything else whole."""
    if isinstance(node, ast.JoinedStr):
        return [_strings(v.value if isinstance(v, ast.FormattedValue) else v, names) for v in node.values]
    return [_strings(node, names)]


def _shapes(parts: list[set[str] | None]) -> set[str]:
    """The actions, as patterns, that parts put together can make."""
    choices = [sorted(re.escape(s) for s in p) if p is not None else [UNKNOWN] for p in parts]
    return {"".join(c) for c in itertools.product(*choices)}


def _assigned(scope: ast.AST, names: dict[str, set[str] | None]) -> dict[str, set[str] | None]:
    """`names`, and what each name assigned in `scope` can hold (None: not only strings)."""
    local: dict[str, set[str] | None] = {}
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, _strings(node.value, names)
            was = local.get(name, set())
            local[name] = value | was if value is not None and was is not None else None
    return {**names, **local}


def _action_shapes(node: ast.Call, name: str, names: dict[str, set[str] | None]) -> set[str]:
    if name in WRITERS:
        given = [k.value for k in node.keywords if k.arg == "action"] + node.args[3:4]
        return _shapes(_parts(given[0] if given else None, names))
    parts: list[set[str] | None] = []
    for i, piece in enumerate(re.split(r"\{(\d+)\}", BUILDERS[name][1])):
        if i % 2 == 0:
            parts.append({piece})
        else:
            parts += _parts(node.args[int(piece)] if int(piece) < len(node.args) else None, names)
    return _shapes(parts)


def _written_actions() -> set[str]:
    """Every action gateway/ writes to the audit table, as patterns ([a-z_]+ where a part is not
    written out); what a builder writes is read from the builder's calls."""
    shapes: set[str] = set()
    for path in sorted(GATEWAY.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(GATEWAY).as_posix()
        builders = {n for n, (f, _) in BUILDERS.items() if fnmatch(where, f) or not n.startswith("_")}
        constants = _assigned(ast.Module(body=[n for n in tree.body if isinstance(n, ast.Assign)]), {})
        for scope in ast.walk(tree):
            if not isinstance(scope, ast.FunctionDef) or scope.name in builders:
                continue
            names = _assigned(scope, constants)
            for node in (n for n in ast.walk(scope) if isinstance(n, ast.Call)):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in WRITERS or name in builders:
                    shapes |= _action_shapes(node, name, names)
    return shapes


def test_every_action_the_gateway_audits_is_worded_in_both_languages() -> None:
    """Whatever the gateway puts on record (a renewal, a central command, a re-dated clock), the
    guard reads what it was in Chinese or English, not its code: one added later is caught here."""
    shapes = _written_actions()
    known = {"lane\\.open", "lane\\.close", "vehicle\\.update", "credential\\.block", "clock\\.redate"}
    assert known <= shapes, "the test no longer finds the gateway's audit calls"
    assert UNKNOWN not in shapes, "an action the test cannot read at all: write its parts out"
    unworded = sorted(s for s in shapes if not any(re.fullmatch(s, code) for code in AUDIT_ACTIONS))
    assert unworded == [], f"add these actions to AUDIT_ACTIONS in gateway/web/audit_words.py: {unworded}"
    stale = sorted(c for c in AUDIT_ACTIONS if not any(re.fullmatch(s, c) for s in shapes))
    assert stale == [], f"no longer written: {stale}"
    for code, (zh, en) in AUDIT_ACTIONS.items():
        assert re.search(r"[\u4e00-\u9fff]", zh) and en and not re.search(r"[\u4e00-\u9fff]", en), code
