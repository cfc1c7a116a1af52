"""Headless Debian Chromium driven by Selenium, for opening reports from disk like a reader."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1200,900",
)


def require_chromium() -> tuple[str, str]:
    """Paths of chromium and chromedriver; skip where absent, fail in CI (CI=true) where they must be."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        chromium = None
    if chromium and driver:
        return chromium, driver
    why = "headless Chromium tests need Debian's chromium + chromium-driver and selenium (pip install -e '.[test]')"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {why}: .ci/run installs them")
    pytest.skip(why)


class Browser:
    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        chromium, driver = require_chromium()
        self.profile = tempfile.mkdtemp(prefix="ld-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in CHROMIUM_FLAGS + (f"--user-data-dir={self.profile}",):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(executable_path=driver))

    def open(self, page: Path) -> list[str]:
        """Load a file from disk; return the console's errors."""
        self.driver.get(page.resolve().as_uri())
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def count(self, css: str) -> int:
        return len(self.driver.find_elements("css selector", css))

    def texts(self, css: str) -> list[str]:
        return [e.text for e in self.driver.find_elements("css selector", css)]

    def screenshot(self, path: Path, full: bool = True) -> Path:
        """The whole page (or the top of it) as one PNG."""
        height = self.driver.execute_script("return document.documentElement.scrollHeight") if full else 900
        self.driver.set_window_size(1200, min(height + 40, 12000))
        path.parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(1200, 900)
        return path

    def view_shot(self, view: str, path: Path) -> Path:
        """The first section of a view as one PNG (the pictures in docs/report.md)."""
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1200, min(height + 40, 12000))
        path.parent.mkdir(parents=True, exist_ok=True)
        self.driver.find_element("css selector", f"section[data-view='{view}']").screenshot(str(path))
        self.driver.set_window_size(1200, 900)
        return path

    def close(self) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)
