"""The pages in a real headless Chromium (a laptop's 1280x800 and a phone's 390x844, one browser
session per size) against ``edgecam run`` on the demo clip, with 200 stored events."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from edgecam import bundled
from edgecam.detect.detector import Detector
from tests.service.harness import Service
from tests.web.browser import SIZES, axe_violations, chromium, screenshot
from tests.web.browser_service import CLIP_ID, CONFIG, DAYS, PAGE, STORED, Running, stored_events
from tests.web.fakes import serving

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, detector: Detector
) -> Iterator[tuple[Running, Path]]:
    tmp = tmp_path_factory.mktemp("browser")
    stored_events(tmp / "events", detector)
    config = tmp / "edgecam.yaml"
    config.write_text(CONFIG.format(clip=bundled.demo_clip(), events=tmp / "events"))
    run = Running(tmp, config)
    try:
        yield run, config
    finally:
        run.close()


@pytest.fixture(scope="module", params=list(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, size: str) -> Iterator[WebDriver]:
    driver = chromium(tmp_path_factory.mktemp("chromium") / "profile", size)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: WebDriver, script: str, timeout: float = 30.0, *args: Any) -> Any:
    return WebDriverWait(driver, timeout, 0.1).until(lambda d: d.execute_script(script, *args))


def _zones(svc: Service) -> dict[str, Any]:
    with urllib.request.urlopen(svc.url("/api/cameras/demo"), timeout=10) as reply:
        zones: dict[str, Any] = json.load(reply)["zones"]
    return zones


def _clean(browser: WebDriver) -> None:
    bad = axe_violations(browser)
    assert not bad, "\n".join(bad)


# -- the overview --------------------------------------------------------------------------------


def test_the_overview_shows_the_camera_live_and_is_accessible(
    service: tuple[Running, Path], browser: WebDriver, size: str
) -> None:
    svc = service[0].svc
    browser.get(svc.url("/"))
    img = 'document.querySelector("img[data-camera=demo]")'
    # Two frames shown, so the view refreshes; a real JPEG, decoded at the camera's size.
    _wait(browser, f"const i = {img}; return i && Number(i.dataset.frames) >= 2 && i.naturalWidth")
    assert browser.execute_script(f"return [{img}.naturalWidth, {img}.naturalHeight]") == [768, 576]
    _wait(browser, 'return document.querySelector("#rules tr") !== null')
    rules = browser.find_element(By.ID, "rules").text
    assert "crossing" in rules and "in " in rules and "out " in rules  # the in/out split
    assert browser.find_element(By.ID, "health").text == "ok"
    assert browser.find_element(By.ID, "tz").text == "times in Europe/Berlin"
    meta = browser.find_element(By.CSS_SELECTOR, "#camera-demo .meta").text
    assert re.search(r"\b(0 zones|1 zone|\d+ zones), 1 line, 0 masks\b", meta), (
        meta
    )  # not "1 lines"
    assert re.search(r"\b\d+ unreviewed\b", meta), meta
    assert re.search(r"crossing: in \d+ · out \d+ · total \d+", meta), meta
    card = browser.execute_script(f"return {img}.getBoundingClientRect().toJSON()")
    width = SIZES[size][0]
    assert card["width"] >= 0.55 * width, card  # one camera uses the width
    _wait(browser, 'return document.querySelectorAll("#events .event").length > 0')
    screenshot(browser, "overview", size)
    _clean(browser)
    # The motion layer: the next frames are asked with it, and the choice is kept.
    browser.find_element(By.CSS_SELECTOR, '#layers input[value="motion"]').click()
    assert "motion" in browser.execute_script('return localStorage.getItem("edgecam.layers")')
    # Tap for full screen, and back.
    browser.find_element(By.CSS_SELECTOR, "img[data-camera=demo]").click()
    _wait(browser, 'return document.getElementById("camera-demo").classList.contains("full")')
    full = browser.execute_script(f"return {img}.getBoundingClientRect().toJSON()")
    assert full["width"] >= 0.9 * width
    browser.find_element(By.CSS_SELECTOR, "img[data-camera=demo]").click()
    _wait(browser, 'return !document.getElementById("camera-demo").classList.contains("full")')


# -- the events page -----------------------------------------------------------------------------


def _events_page(browser: WebDriver, svc: Service, query: str) -> None:
    browser.get(svc.url(f"/events{query}"))
    _wait(browser, 'return document.body.dataset.ready === "1"')


def _shown(browser: WebDriver) -> tuple[str, list[str]]:
    ids = browser.execute_script(
        'return [...document.querySelectorAll("#list .event")].map((e) => e.dataset.id)'
    )
    return browser.find_element(By.ID, "page").text, ids


def test_filters_paging_and_the_timeline_over_200_events(
    service: tuple[Running, Path], browser: WebDriver, size: str
) -> None:
    svc = service[0].svc
    _events_page(browser, svc, "?rule=visitors&day=2026-11-28")  # a deep link
    page, ids = _shown(browser)
    assert page == f"1-{PAGE} of 50" and len(ids) == PAGE
    browser.find_element(By.ID, "older").click()
    _wait(browser, f'return document.getElementById("page").textContent.startsWith("{PAGE + 1}")')
    assert "offset=24" in browser.current_url
    browser.find_element(By.ID, "older").click()
    _wait(browser, 'return document.getElementById("page").textContent === "49-50 of 50"')
    assert browser.find_element(By.ID, "older").get_attribute("disabled") is not None
    # The filter form: cats only, on that day (the day stays).
    if size == "phone":  # the filters are folded away on a phone: unfold them
        assert browser.find_element(By.ID, "f-label").is_displayed() is False
        assert "rule visitors" in browser.find_element(By.ID, "active").text
        browser.find_element(By.CSS_SELECTOR, "#filter-box summary").click()
    label = browser.find_element(By.ID, "f-label")
    label.clear()
    label.send_keys("cat")
    browser.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    _wait(browser, 'return document.getElementById("page").textContent === "1-24 of 25"')
    assert "label=cat" in browser.current_url and "offset" not in browser.current_url
    # The timeline: the four stored days (and the live day), 50 each; a day links to itself.
    rows = _wait(
        browser,
        'const rows = [...document.querySelectorAll("#timeline li a")].map((a) => a.textContent);'
        'return rows.some((r) => r.endsWith(" 25 events")) && rows',
    )
    for day in DAYS:
        assert f"{day} · 25 events" in rows, rows  # the label filter holds on the timeline
    # A time range within a day, in the device's zone (Berlin: UTC+1 in winter).
    _events_page(browser, svc, "?rule=visitors&day=2026-11-27&from=07:00&to=09:00")
    page, ids = _shown(browser)
    expected = sum(1 for i in range(0, STORED, 4) if 6 <= 6 + (i * 7) % 12 < 8)
    assert page == f"1-{expected} of {expected}", (page, expected)
    # Sub labels, where present, are on the cards and filter.
    _events_page(browser, svc, "?sub_label=Border%20Collie")
    page, _ = _shown(browser)
    assert page == "1-20 of 20"
    assert "Border Collie" in browser.find_element(By.CSS_SELECTOR, "#list .sub-label").text
    _events_page(browser, svc, "?rule=visitors")
    assert _shown(browser)[0] == f"1-{PAGE} of {STORED}"
    screenshot(browser, "events", size)
    _clean(browser)


def test_a_clip_plays_in_place_with_its_snapshot_as_poster(
    service: tuple[Running, Path], browser: WebDriver
) -> None:
    svc = service[0].svc
    _events_page(browser, svc, f"?event={CLIP_ID}")
    url = browser.current_url
    browser.find_element(By.CSS_SELECTOR, f"#event-{CLIP_ID} button.play").click()
    video = f'document.querySelector("#event-{CLIP_ID} video")'
    assert browser.execute_script(f"return {video}.getAttribute('poster')").endswith(
        f"/api/events/{CLIP_ID}/snapshot.jpg"
    )
    _wait(browser, f"return {video}.currentTime > 0.5", 20)
    assert browser.current_url == url  # in place: the page stayed


def test_marked_reviewed_survives_a_restart(
    service: tuple[Running, Path], browser: WebDriver, size: str
) -> None:
    run = service[0]
    event_id = "ev-010" if size == "desktop" else "ev-011"
    _events_page(browser, run.svc, "?rule=visitors&reviewed=false")
    unreviewed = int(_shown(browser)[0].rsplit(" of ", 1)[1])
    _events_page(browser, run.svc, f"?event={event_id}")
    assert browser.find_element(By.CSS_SELECTOR, '#unreviewed a[data-camera="demo"]')
    mark = browser.find_element(By.CSS_SELECTOR, f"#event-{event_id} button.mark")
    assert mark.get_attribute("aria-pressed") == "false"
    mark.click()
    _wait(browser, f'return document.querySelector("#event-{event_id} button.mark")'
                   '.getAttribute("aria-pressed") === "true"')  # fmt: skip
    run.restart()
    _events_page(browser, run.svc, f"?event={event_id}")
    mark = browser.find_element(By.CSS_SELECTOR, f"#event-{event_id} button.mark")
    assert mark.get_attribute("aria-pressed") == "true" and "Reviewed" in mark.text
    _events_page(browser, run.svc, "?rule=visitors&reviewed=false")
    assert _shown(browser)[0].endswith(f"of {unreviewed - 1}")


# -- the editor ----------------------------------------------------------------------------------


def _open_editor(browser: WebDriver, svc: Service) -> None:
    browser.get(svc.url("/editor?camera=demo"))
    _wait(
        browser,
        'return document.getElementById("overlay").getAttribute("viewBox") === "0 0 768 576"',
    )
    _wait(browser, 'return Number(document.getElementById("frame").dataset.frames) >= 1')


def _tap(browser: WebDriver, fractions: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Tap (touch) or click the overlay at fractions of its size; the fractions hit."""
    svg = browser.find_element(By.ID, "overlay")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", svg)
    touch = browser.execute_script("return navigator.maxTouchPoints > 0")
    hit = []
    for fx, fy in fractions:
        rect = browser.execute_script("return arguments[0].getBoundingClientRect().toJSON()", svg)
        x, y = round(rect["x"] + fx * rect["width"]), round(rect["y"] + fy * rect["height"])
        kind = interaction.POINTER_TOUCH if touch else interaction.POINTER_MOUSE
        pointer = PointerInput(kind, "finger" if touch else "mouse")  # type: ignore[no-untyped-call]
        actions = ActionBuilder(browser, mouse=pointer)
        actions.pointer_action.move_to_location(x, y).pointer_down().pointer_up()  # type: ignore[no-untyped-call]
        actions.perform()
        hit.append(((x - rect["x"]) / rect["width"], (y - rect["y"]) / rect["height"]))
    return hit


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


def _yaml_polygon(browser: WebDriver, name: str) -> list[list[float]]:
    text = browser.find_element(By.ID, "yaml").text
    line = next(t for t in text.splitlines() if t.strip().startswith(f"{name}:"))
    got: list[list[float]] = json.loads(line.split("polygon:", 1)[1].strip().rstrip("}"))
    return got


def test_a_two_point_zone_is_refused_on_the_page_and_nothing_is_written(
    service: tuple[Running, Path], browser: WebDriver, size: str
) -> None:
    svc, config = service[0].svc, service[1]
    _open_editor(browser, svc)
    apply = browser.find_element(By.ID, "apply")
    reason = browser.find_element(By.ID, "apply-reason")
    assert apply.get_attribute("disabled") is not None and "Nothing changed" in reason.text
    backup = config.with_name("edgecam.yaml.bak")
    before = (config.read_bytes(), config.stat().st_mtime_ns)
    bak = (backup.read_bytes(), backup.stat().st_mtime_ns) if backup.exists() else None
    browser.find_element(By.ID, "mode-zone").click()
    _tap(browser, [(0.2, 0.2), (0.6, 0.3)])
    assert reason.is_displayed() and "needs at least 3" in reason.text, reason.text
    finish_reason = browser.find_element(By.ID, "finish-reason")
    assert finish_reason.is_displayed() and "2 so far" in finish_reason.text
    assert browser.find_element(By.ID, "finish").get_attribute("disabled") is not None
    apply.click()  # disabled: nothing is sent
    browser.execute_script("arguments[0].click()", apply)
    time.sleep(0.5)
    assert (config.read_bytes(), config.stat().st_mtime_ns) == before
    assert bak == ((backup.read_bytes(), backup.stat().st_mtime_ns) if backup.exists() else None)
    screenshot(browser, "editor", size)
    _clean(browser)


def test_a_zone_drawn_with_touch_sized_handles_and_undo_is_applied(
    service: tuple[Running, Path], browser: WebDriver, size: str
) -> None:
    svc, config = service[0].svc, service[1]
    _open_editor(browser, svc)
    browser.find_element(By.ID, "mode-zone").click()
    name = f"walkway_{size}"
    browser.find_element(By.ID, "shape-name").send_keys(name)
    # Away from the corners of the zone the other size drew (a tap there would move them).
    top, bottom = (0.6, 0.95) if size == "desktop" else (0.3, 0.5)
    hit = _tap(browser, [(0.1, top), (0.9, top), (0.9, bottom), (0.5, 0.2)])
    handles = browser.execute_script(
        'return [...document.querySelectorAll("circle.vertex[data-kind=drawing]")]'
        ".map((c) => c.getBoundingClientRect().width)"
    )
    assert len(handles) == 4 and min(handles) >= 24, handles  # touch targets
    buttons = browser.execute_script(
        'return [...document.querySelectorAll("button")].filter((b) => b.offsetParent)'
        ".map((b) => Math.min(b.getBoundingClientRect().width, b.getBoundingClientRect().height))"
    )
    assert min(buttons) >= 24, buttons
    browser.find_element(By.ID, "undo").click()  # the last corner was a slip
    hit.pop()
    assert len(browser.find_elements(By.CSS_SELECTOR, "circle.vertex[data-kind=drawing]")) == 3
    hit.append(_tap(browser, [(0.3, (top + bottom) / 2)])[0])
    if size == "desktop":  # a corner dragged into place (a mouse drag)
        hit[3] = _drag(browser, 3, (0.1, bottom))
    browser.find_element(By.ID, "finish").click()
    got = _yaml_polygon(browser, name)
    assert len(got) == 4
    for (x, y), (ex, ey) in zip(got, hit, strict=True):
        assert abs(x - ex) * 768 <= 1.5 and abs(y - ey) * 576 <= 1.5, (got, hit)
    previous = config.read_text()
    assert browser.find_element(By.ID, "apply-reason").text == ""
    browser.find_element(By.ID, "apply").click()
    _wait(browser, 'return document.getElementById("status").textContent.startsWith("applied")')
    assert f"{name}:" in config.read_text() and "# loops" in config.read_text()
    assert config.with_name("edgecam.yaml.bak").read_text() == previous
    zones = _zones(svc)  # the running service now has the zone
    assert [[round(x, 3), round(y, 3)] for x, y in zones[name]] == [
        [round(x, 3), round(y, 3)] for x, y in got
    ]


def test_a_refusal_is_shown_against_the_drawing_and_changes_nothing(
    service: tuple[Running, Path], browser: WebDriver
) -> None:
    svc, config = service[0].svc, service[1]
    _open_editor(browser, svc)
    before_file, before_zones = config.read_text(), _zones(svc)
    browser.find_element(By.ID, "mode-zone").click()
    _tap(browser, [(0.2, 0.1), (0.5, 0.4), (0.5, 0.1), (0.2, 0.4)])  # a bow tie
    browser.find_element(By.ID, "finish").click()
    browser.find_element(By.ID, "apply").click()
    _wait(browser, 'return document.querySelectorAll("#errors li").length > 0')
    errors = browser.find_element(By.ID, "errors").text
    assert "crosses itself" in errors and "zone zone1:" in errors, errors
    assert ".yaml:" not in errors  # no line numbers of a file the user never saw
    assert "refused" in browser.find_element(By.ID, "status").text
    marked = browser.find_element(By.CSS_SELECTOR, 'polygon.zone.invalid[data-zone="zone1"]')
    assert marked.is_displayed()
    note = browser.find_element(By.CSS_SELECTOR, "#overlay text.problem").text
    assert "crosses itself" in note
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
        for path in ("/", "/editor", "/events", "/api/cameras", "/cameras/c/latest.jpg"):
            assert browser.execute_async_script(status, path, None) == 401, path
            assert browser.execute_async_script(status, path, "wrong") == 401, path
        assert browser.execute_async_script(status, "/api/cameras", "correct horse") == 200
