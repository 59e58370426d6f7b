"""Debian's headless Chromium, driven through chromedriver by Selenium (no browser download)."""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)


def chromium(profile: Path) -> object:
    """A new headless Chromium with a fresh profile in ``profile``; quit() it when done."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        raise AssertionError(
            f"{', '.join(missing)} missing: install Debian's chromium and chromium-driver "
            "(bash scripts/setup.sh --test does)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    shutil.rmtree(profile, ignore_errors=True)
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
