"""Where no browser exists the browser tests are skipped, and the reason says what to install."""

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
