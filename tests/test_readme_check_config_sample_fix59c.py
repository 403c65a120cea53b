"""README's *Site config* shows what check-config says of a bad file; its list of a lane's keys
had fallen years behind (no plate_match, no vehicle_class: review 59c, reviewer c). The sample is
now a real run on the example config with the two mistakes it shows, and stays one."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main

REPO = Path(__file__).resolve().parent.parent


def _readme_sample() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("$ gateway check-config site.toml\n", readme.index("## Site config"))
    return readme[start : readme.index("```", start)].split("\n", 1)[1]


def test_the_readmes_check_config_sample_is_what_it_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (REPO / "config" / "example-estate.toml").read_text(encoding="utf-8")
    text = text.replace('anti_passback = "soft"', 'anti_passback = "sometimes"', 1)
    text = text.replace('\nzone = "underground"', '\nzoen = "underground"', 1)
    (tmp_path / "site.toml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check-config", "site.toml"]) == 78
    said = capsys.readouterr()
    assert said.out + said.err == _readme_sample()
