"""The browser tests skip, saying what to install, where no browser exists; the tour's pictures come from them."""

import re
from pathlib import Path

from tests.browser import conftest


def test_without_chromium_the_skip_reason_names_the_missing_executable_and_how_to_install_it(monkeypatch, tmp_path):
    missing = tmp_path / "chromium"
    monkeypatch.setattr(conftest, "CHROMIUM", str(missing))
    reason = conftest._missing_browser()
    assert reason is not None and str(missing) in reason and "apt-get install -y chromium" in reason


def test_an_existing_chromium_is_used_as_is(monkeypatch, tmp_path):
    executable = tmp_path / "chromium"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    monkeypatch.setattr(conftest, "CHROMIUM", str(executable))
    assert conftest._missing_browser() is None


def test_every_picture_of_the_tour_is_committed_and_taken_by_a_browser_test():
    docs = conftest.ROOT / "docs"
    pictures = re.findall(r"!\[[^\]]*\]\(images/([^)]+)\.png\)", (docs / "back-office.md").read_text())
    taken = set()
    for test_file in Path(conftest.__file__).parent.glob("test_*.py"):
        taken |= set(re.findall(r"tour\(\w+, \"([^\"]+)\"", test_file.read_text()))
    assert pictures and set(pictures) <= taken
    assert [name for name in pictures if not (docs / "images" / f"{name}.png").is_file()] == []
