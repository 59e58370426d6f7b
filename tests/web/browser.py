"""Debian's headless Chromium, driven through chromedriver by Selenium (no browser download).

Also: axe-core (npm, installed by ``scripts/setup.sh --test`` into tests/web/axe) injected into a
page for accessibility checks, and screenshots for docs/ when ``EDGECAM_SCREENSHOTS`` names a
directory (``EDGECAM_SCREENSHOTS=docs/screenshots pytest tests/web/test_browser.py``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
FLAGS = (
    "--headless",
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--hide-scrollbars",
)
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
"""The sizes every page is tested at: a laptop, and a phone (touch, as an iPhone 12-15)."""


def chromium(profile: Path, size: str = "desktop") -> Any:
    """A new headless Chromium with a fresh profile in ``profile``; quit() it when done."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        raise AssertionError(
            f"{', '.join(missing)} missing: install Debian's chromium and chromium-driver "
            "(bash scripts/setup.sh --test does)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    width, height = SIZES[size]
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    if size == "phone":  # a touch screen: taps are touch pointer events, as on a phone
        metrics = {"width": width, "height": height, "pixelRatio": 2, "touch": True}
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    shutil.rmtree(profile, ignore_errors=True)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    if size == "desktop":  # the window's size is not the page's: make the page 1280x800
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
    return driver


def axe_violations(driver: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """axe-core's violations of ``impacts`` on the page now, one line each (rule, where)."""
    if not AXE.is_file():
        raise AssertionError(
            f"{AXE} missing: install axe-core with `npm ci --prefix tests/web/axe` "
            "(bash scripts/setup.sh --test does)"
        )
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ["violations"]}).then((r) => done(r.violations.map(
            (v) => ({id: v.id, impact: v.impact, help: v.help,
                     where: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}))));
        """
    )
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {v['where']}"
        for v in found
        if v["impact"] in impacts
    ]


def screenshot(driver: Any, name: str, size: str) -> Path | None:
    """Save the page's top as ``<name>-<size>.jpg`` under ``$EDGECAM_SCREENSHOTS``, if set."""
    where = os.environ.get("EDGECAM_SCREENSHOTS")
    if not where:
        return None
    import cv2
    import numpy as np

    driver.execute_script("window.scrollTo(0, 0)")
    png = np.frombuffer(driver.get_screenshot_as_png(), np.uint8)
    path = Path(where) / f"{name}-{size}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    image = cv2.imdecode(png, cv2.IMREAD_COLOR)
    assert image is not None, "Chromium's screenshot is not a PNG"
    cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 80])  # small enough for the repo
    return path
