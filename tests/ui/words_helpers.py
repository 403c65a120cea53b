"""Shared by the wording tests (test_words_fix45_*): a served site of its own, and the bad toast's words."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.conftest import TARIFF_TOML
from tests.ui.conftest import Site, make_config, served

# A run of English words, as the API's message and fix read (the pages' Chinese has none).
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,:'()]+[A-Za-z]{2,}){2,}")


@pytest.fixture
def own_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    with served(make_config(tmp_path / "data", TARIFF_TOML)) as served_site:
        yield served_site


def bad_toast(page) -> str:  # type: ignore[no-untyped-def]
    page.wait_for_selector("#toast.bad")
    return str(page.inner_text("#toast"))


def english_in(text: str) -> list[str]:
    return ENGLISH.findall(text)
