"""A headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by selenium.

Nothing is downloaded: the driver is ``/usr/bin/chromedriver`` (selenium-manager
is never asked) and the browser ``/usr/bin/chromium``, each in a fresh profile.
Under CI (``CI=true`` or ``ACCESSGATE_TEST_REQUIRE_SERVICES=1``) a missing
browser, driver or selenium fails the tests; elsewhere they are skipped.
``.ci/run`` installs both packages when they are missing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import Server, running_server

CHROMIUM = Path(os.environ.get("ACCESSGATE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("ACCESSGATE_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"))
PAGE_LOAD_TIMEOUT = 30
REQUIRED = (
    os.environ.get("CI", "").lower() == "true"
    or os.environ.get("ACCESSGATE_TEST_REQUIRE_SERVICES") == "1"
)


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (path.is_file() and os.access(path, os.X_OK)):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium session; fails under CI and skips elsewhere when not installed."""
    missing = _missing()
    if missing is not None:
        if REQUIRED:
            pytest.fail(f"the browser tests need Chromium: {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="accessgate-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--lang=en-US",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``accessgate serve`` on SQLite with the defaults (sandbox provider, rate limits on)."""
    with running_server(
        tmp_path_factory.mktemp("browser"), extra_env={"RATE_LIMIT_ENABLED": "true"}
    ) as running:
        yield running
