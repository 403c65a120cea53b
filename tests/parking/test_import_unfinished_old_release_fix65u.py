"""An import the release before the upgrade left unfinished (its staging file staged before schema
70, which kept no record of how far its steps got) is said as one whose rows in are not known: the
alarm, the start's WARNING and /api/health gave "0 rows in" while 29,003 of its residents were live
(Review 65U)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.runtime.gateway import Gateway
from tests.conftest import write_csv
from tests.parking.conftest import make_gw  # noqa: F401  (fixture)
from tests.parking.test_import_unfinished_fix65b2 import CARDS, _cut, _health, _open
from tests.test_csv_fix47b_given_up_after_resume import as_a_release_before_schema_70_left_it, one_row_a_step  # noqa: F401


def test_an_import_the_old_release_left_unfinished_says_its_rows_in_are_not_known(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
    one_row_a_step: None,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    gw = make_gw()
    _cut(gw, write_csv(tmp_path / "cards.csv", CARDS), after=2)
    as_a_release_before_schema_70_left_it(gw)
    caplog.set_level(logging.WARNING, logger="gateway")
    gw.start()  # the first start after the upgrade
    try:
        [warned] = [r.getMessage() for r in caplog.records if "unfinished" in r.getMessage()]
        assert "0 of its" not in warned, warned
        assert "before the upgrade" in warned and "not known" in warned, warned
        assert "gateway import -c CONFIG" in warned, warned

        [(kind, _, words)] = _open(gw)
        assert kind == "import_unfinished"
        assert "只写入了 0 行" not in words, words
        assert "升级前" in words and "不详" in words and "cards.csv" in words and "4 行" in words, words
        assert "gateway import -c 站点配置文件" in words, words
        shown = {"files": ["cards.csv"], "done": None, "total": 4}
        assert _health(gw) == (shown, shown, "degraded")
    finally:
        gw.stop()
