"""The pages in a real headless Chromium against ``edgecam run`` on the demo clip."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from edgecam import bundled
from tests.service.harness import Service, running
from tests.web.browser import chromium
from tests.web.fakes import serving

pytestmark = pytest.mark.browser

CONFIG = f"""\
# The demo camera, with a config file the editor may write.
device: {{name: browser}}
cameras:
  demo:
    source: {{type: file, path: {bundled.demo_clip()}, loop: true}}  # loops for the test
    lines:
      crossing: {{points: [[0.45, 0.25], [0.45, 0.65]]}}
rules:
  - {{name: person, kind: presence, labels: [person], min_score: 0.5}}
  - {{name: crossing, kind: line, line: crossing, labels: [person]}}
http: {{listen: "127.0.0.1:0", allow_config_write: true}}
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, Path]]:
    tmp = tmp_path_factory.mktemp("browser")
    config = tmp / "edgecam.yaml"
    config.write_text(CONFIG)
    with running(tmp, ["run", "--config", str(config)], None) as svc:
        svc.wait_log(r"HTTP endpoint on")
        yield svc, config


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver: Any = chromium(tmp_path_factory.mktemp("chromium") / "profile")
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: WebDriver, script: str, timeout: float = 30.0) -> Any:
    return WebDriverWait(driver, timeout, 0.1).until(lambda d: d.execute_script(script))


def _zones(svc: Service) -> dict[str, Any]:
    with urllib.request.urlopen(svc.url("/api/cameras/demo"), timeout=10) as reply:
        zones: dict[str, Any] = json.load(reply)["zones"]
    return zones


def test_the_overview_shows_a_live_image_of_the_demo_camera(
    service: tuple[Service, Path], browser: WebDriver
) -> None:
    svc, _ = service
    browser.get(svc.url("/"))
    img = 'document.querySelector("img[data-camera=demo]")'
    # Two frames shown, so the view refreshes; a real JPEG, decoded at the camera's size.
    _wait(browser, f"const i = {img}; return i && Number(i.dataset.frames) >= 2 && i.naturalWidth")
    assert browser.execute_script(f"return [{img}.naturalWidth, {img}.naturalHeight]") == [768, 576]
    _wait(browser, 'return document.querySelector("#rules tr") !== null')
    assert "crossing" in browser.find_element(By.ID, "rules").text
    assert browser.find_element(By.ID, "health").text == "ok"


def _click_at(
    browser: WebDriver, fractions: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Click the overlay at each fraction of its size; the fractions actually clicked."""
    svg = browser.find_element(By.ID, "overlay")
    rect = browser.execute_script("return arguments[0].getBoundingClientRect().toJSON()", svg)
    clicked = []
    for fx, fy in fractions:
        dx, dy = (
            round(fx * rect["width"] - rect["width"] / 2),
            round(fy * rect["height"] - rect["height"] / 2),
        )
        ActionChains(browser).move_to_element_with_offset(svg, dx, dy).click().perform()
        clicked.append(
            ((dx + rect["width"] / 2) / rect["width"], (dy + rect["height"] / 2) / rect["height"])
        )
    return clicked


def _drag(browser: WebDriver, index: int, to: tuple[float, float]) -> tuple[float, float]:
    """Drag corner ``index`` of the shape being drawn to a fraction of the overlay."""
    svg = browser.find_element(By.ID, "overlay")
    vertex = browser.find_element(
        By.CSS_SELECTOR, f'circle.vertex[data-kind="drawing"][data-index="{index}"]'
    )
    rect = browser.execute_script("return arguments[0].getBoundingClientRect().toJSON()", svg)
    w, h = rect["width"], rect["height"]
    dx, dy = round(to[0] * w - w / 2), round(to[1] * h - h / 2)
    chain = ActionChains(browser).click_and_hold(vertex).move_to_element_with_offset(svg, dx, dy)
    chain.release().perform()
    return (dx + w / 2) / w, (dy + h / 2) / h


def _open_editor(browser: WebDriver, svc: Service) -> None:
    browser.get(svc.url("/editor?camera=demo"))
    _wait(
        browser,
        'return document.getElementById("overlay").getAttribute("viewBox") === "0 0 768 576"',
    )
    _wait(browser, 'return Number(document.getElementById("frame").dataset.frames) >= 1')


def test_a_zone_drawn_by_clicks_is_applied_and_reported(
    service: tuple[Service, Path], browser: WebDriver
) -> None:
    svc, config = service
    _open_editor(browser, svc)
    browser.find_element(By.ID, "mode-zone").click()
    browser.find_element(By.ID, "shape-name").send_keys("walkway")
    clicked = _click_at(browser, [(0.1, 0.6), (0.9, 0.6), (0.9, 0.95), (0.3, 0.8)])
    clicked[3] = _drag(browser, 3, (0.1, 0.95))  # the last corner, dragged into place
    browser.find_element(By.ID, "finish").click()
    yaml_text = browser.find_element(By.ID, "yaml").text
    line = next(t for t in yaml_text.splitlines() if t.strip().startswith("walkway:"))
    got = json.loads(line.split("polygon:", 1)[1].strip().rstrip("}"))
    assert len(got) == 4
    for (x, y), (ex, ey) in zip(got, clicked, strict=True):
        assert abs(x - ex) * 768 <= 1.0 and abs(y - ey) * 576 <= 1.0, (got, clicked)
    browser.find_element(By.ID, "apply").click()
    _wait(browser, 'return document.getElementById("status").textContent.startsWith("applied")')
    assert "walkway:" in config.read_text() and "# loops for the test" in config.read_text()
    assert config.with_name("edgecam.yaml.bak").read_text() == CONFIG
    zones = _zones(svc)  # the running service now has the zone
    assert [[round(x, 3), round(y, 3)] for x, y in zones["walkway"]] == [
        [round(x, 3), round(y, 3)] for x, y in got
    ]


def test_an_invalid_apply_is_refused_and_changes_nothing(
    service: tuple[Service, Path], browser: WebDriver
) -> None:
    svc, config = service
    _open_editor(browser, svc)
    before_file, before_zones = config.read_text(), _zones(svc)
    browser.find_element(By.ID, "mode-zone").click()
    _click_at(browser, [(0.2, 0.1), (0.5, 0.4), (0.5, 0.1), (0.2, 0.4)])  # a bow tie
    browser.find_element(By.ID, "finish").click()
    browser.find_element(By.ID, "apply").click()
    _wait(browser, 'return document.querySelectorAll("#errors li").length > 0')
    errors = browser.find_element(By.ID, "errors").text
    assert "crosses itself" in errors and "zone1" in errors, errors
    assert "refused" in browser.find_element(By.ID, "status").text
    assert config.read_text() == before_file and _zones(svc) == before_zones


def test_without_credentials_the_page_is_refused(tmp_path: Path, browser: WebDriver) -> None:
    (tmp_path / "password").write_text("correct horse\n")
    with serving(None, None, password_file=tmp_path / "password") as (_view, server):
        browser.get(server.url + "healthz")  # open to monitors: a page of this origin to ask from
        status = """
            const done = arguments[arguments.length - 1];
            const auth = arguments[1] ? {Authorization: "Basic " + btoa("me:" + arguments[1])} : {};
            // credentials "omit": a 401 then comes back to the script instead of a login prompt.
            fetch(arguments[0], {headers: auth, credentials: "omit"}).then((r) => done(r.status));
        """
        for path in ("/", "/editor", "/api/cameras", "/cameras/c/latest.jpg"):
            assert browser.execute_async_script(status, path, None) == 401, path
            assert browser.execute_async_script(status, path, "wrong") == 401, path
        assert browser.execute_async_script(status, "/api/cameras", "correct horse") == 200
