"""The JSON API behind the pages (docs/web.md): cameras, rules, events, the config."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from edgecam.config.models import CameraConfig
from edgecam.config.yamlfile import nesting_problem
from edgecam.events.store import EventStore
from edgecam.web.app import NO_STORE, camera_name, ctx, error
from edgecam.web.clock import device_zone
from edgecam.web.editor import ConfigEditor, EditRefused
from edgecam.web.events import event_routes


def _areas(camera: CameraConfig | None) -> dict[str, object]:
    if camera is None:
        return {"zones": {}, "lines": {}, "masks": []}
    return {
        "zones": {name: [list(p) for p in z.polygon] for name, z in camera.zones.items()},
        "lines": {name: [list(p) for p in line.points] for name, line in camera.lines.items()},
        "masks": [[list(p) for p in m.polygon] for m in camera.masks],
    }


def _camera(request: Request, name: str, info: dict[str, object]) -> dict[str, object]:
    view = ctx(request).view
    try:
        frame = view.latest_frame(name)
    except Exception:  # one camera's frame must not hide the list (KeyError: just removed)
        frame = None
    size = list(frame.image.shape[1::-1]) if frame is not None else None
    entry = {"name": name, **info, "size": size, **_areas(view.config().cameras.get(name))}
    entry["latest"] = f"/cameras/{name}/latest.jpg"
    entry["stream"] = f"/cameras/{name}/stream.mjpg"
    return entry


async def cameras(request: Request) -> Response:
    """Every camera: status, fps, detector, frame size, zones, lines, masks."""
    infos = await run_in_threadpool(ctx(request).view.cameras)
    body = [_camera(request, name, info) for name, info in infos.items()]
    return JSONResponse({"cameras": body}, headers=NO_STORE)


async def camera(request: Request) -> Response:
    """One camera, as in the list."""
    name = camera_name(request)
    info = (await run_in_threadpool(ctx(request).view.cameras)).get(name, {})
    return JSONResponse(_camera(request, name, info), headers=NO_STORE)


async def rules(request: Request) -> Response:
    """Each rule on each camera with its state (ON/OFF) and count."""
    return JSONResponse({"rules": ctx(request).view.rules()}, headers=NO_STORE)


async def session(request: Request) -> Response:
    """The CSRF token for state-changing requests, and what this server allows."""
    context = ctx(request)
    editor = context.extra.get("editor")
    return JSONResponse(
        {
            "device": context.view.config().device.name,
            "csrf": context.policy.csrf,
            "auth": context.policy.auth,
            "config_write": isinstance(editor, ConfigEditor) and editor.writable,
            "stream_fps": round(1.0 / context.frames.interval, 2),
            "timezone": device_zone(context.view.config())[0],
            "events_kept": isinstance(context.extra.get("events"), EventStore),
        },
        headers=NO_STORE,
    )


def _editor(request: Request) -> ConfigEditor | None:
    found = ctx(request).extra.get("editor")
    return found if isinstance(found, ConfigEditor) else None


async def config_get(request: Request) -> Response:
    """The config file's text, secrets redacted; null when running without a file (the demo)."""
    editor = _editor(request)
    if editor is None or editor.path is None:
        body: dict[str, object] = {"path": None, "writable": False, "yaml": None}
        return JSONResponse(body, headers=NO_STORE)
    try:
        text = await run_in_threadpool(editor.shown)
    except (EditRefused, ValueError) as err:  # too deep to parse, too
        problems = err.problems if isinstance(err, EditRefused) else [str(err)]
        return JSONResponse({"errors": problems}, 422, headers=NO_STORE)
    body = {"path": str(editor.path), "writable": editor.writable, "yaml": text}
    return JSONResponse(body, headers=NO_STORE)


async def _edited_text(request: Request, editor: ConfigEditor) -> str | Response:
    """The new file text from ``{"yaml": ...}`` or ``{"camera": ..., "zones"/"lines"/"masks"}``."""
    raw = await request.body()
    try:
        if (why := nesting_problem(raw.decode(), "request body")) is not None:
            return error(400, why)  # before json.loads, which recurses per level
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        return error(400, f"invalid JSON: {err}")
    if not isinstance(body, dict):
        return error(400, 'expected a JSON object: {"yaml": ...} or {"camera": ..., "zones": ...}')
    try:
        if isinstance(body.get("yaml"), str):
            return await run_in_threadpool(editor.with_text, body["yaml"])
        if isinstance(body.get("camera"), str):
            areas = _check_areas(body)
            return await run_in_threadpool(editor.with_areas, body["camera"], areas)
    except EditRefused as err:
        return JSONResponse({"ok": False, "errors": err.problems}, 422, headers=NO_STORE)
    except ValueError as err:
        return error(400, str(err))
    return error(400, 'expected "yaml" (the whole file) or "camera" with zones, lines, masks')


def _check_areas(body: dict[str, Any]) -> dict[str, Any]:
    """The areas of an edit, checked for shape (the loader checks the values)."""

    def points(value: object, where: str) -> list[list[float]]:
        ok = isinstance(value, list) and all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(c, int | float) for c in p)
            for p in value
        )
        if not ok or len(value) > 100:  # type: ignore[arg-type]
            raise ValueError(f"{where}: expected up to 100 points [x, y]")
        return value  # type: ignore[return-value]

    areas: dict[str, Any] = {}
    for key in ("zones", "lines"):
        if key in body:
            if not isinstance(body[key], dict):
                raise ValueError(f"{key}: expected an object of name: points")
            areas[key] = {str(n): points(p, f"{key}.{n}") for n, p in body[key].items()}
    if "masks" in body:
        if not isinstance(body["masks"], list):
            raise ValueError("masks: expected a list of polygons")
        areas["masks"] = [points(p, f"masks.{i}") for i, p in enumerate(body["masks"])]
    return areas


async def config_validate(request: Request) -> Response:
    """Check an edit with the loader; 200 ``{"ok": true, "yaml"}`` or 422 with every error."""
    editor = _editor(request)
    if editor is None or editor.path is None:
        return error(409, "running without a config file (the demo): nothing to validate against")
    text = await _edited_text(request, editor)
    if isinstance(text, Response):
        return text
    try:
        await run_in_threadpool(editor.validate, text)
    except EditRefused as err:
        return JSONResponse({"ok": False, "errors": err.problems}, 422, headers=NO_STORE)
    return JSONResponse({"ok": True, "errors": []}, headers=NO_STORE)


async def config_apply(request: Request) -> Response:
    """Validate, write (atomically, with a backup) and reload; 422 leaves everything as it was."""
    editor = _editor(request)
    if editor is None or editor.path is None:
        return error(409, "running without a config file (the demo): start with --config FILE")
    if not editor.writable:
        return error(403, "writing the config is off; set http.allow_config_write: true")
    text = await _edited_text(request, editor)
    if isinstance(text, Response):
        return text
    try:
        result = await run_in_threadpool(editor.apply, text)
    except EditRefused as err:
        return JSONResponse({"ok": False, "errors": err.problems}, 422, headers=NO_STORE)
    except OSError as err:
        return error(500, f"cannot write {editor.path}: {err.strerror or err}")
    return JSONResponse(result, headers=NO_STORE)


def api_routes() -> list[BaseRoute]:
    """The ``/api`` routes."""
    return [
        Route("/api/session", session, methods=["GET"]),
        Route("/api/cameras", cameras, methods=["GET"]),
        Route("/api/cameras/{camera}", camera, methods=["GET"]),
        Route("/api/rules", rules, methods=["GET"]),
        *event_routes(),
        Route("/api/config", config_get, methods=["GET"]),
        Route("/api/config/validate", config_validate, methods=["POST"]),
        Route("/api/config/apply", config_apply, methods=["POST"]),
    ]
