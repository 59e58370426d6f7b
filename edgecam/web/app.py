"""The Starlette application: health, metrics, live frames, pages and the JSON API."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from edgecam.web.frames import LiveFrames
from edgecam.web.overlay import DEFAULT_LAYERS, LAYERS
from edgecam.web.security import Guard, Policy
from edgecam.web.view import ServiceView

CAMERA = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
BOUNDARY = "edgecamframe"
NO_STORE = {"Cache-Control": "no-store"}


@dataclass
class WebContext:
    """Everything the routes use, built once by the server."""

    view: ServiceView
    registry: CollectorRegistry
    frames: LiveFrames
    policy: Policy
    extra: dict[str, Any]
    """Parts added by other modules (the API's recent events, the config editor)."""
    closing: asyncio.Event | None = None


def ctx(request: Request) -> WebContext:
    """The context of the app serving ``request``."""
    context: WebContext = request.app.state.ctx
    return context


def error(code: int, message: str) -> JSONResponse:
    """A JSON error answer."""
    return JSONResponse({"error": message}, code, headers=NO_STORE)


def camera_name(request: Request) -> str:
    """The ``{camera}`` path part, checked against the known cameras (404 otherwise)."""
    name = str(request.path_params["camera"])
    if not CAMERA.match(name) or name not in ctx(request).view.camera_status():
        raise HTTPException(404, f"no camera {name!r}")
    return name


async def healthz(request: Request) -> Response:
    """200 while frames flow and the detector works (status degraded: events at risk), else 503."""
    view = ctx(request).view
    ok, reason = view.health()
    status = ("degraded" if reason.startswith("degraded") else "ok") if ok else "unhealthy"
    if not ok and reason.startswith("starting"):
        status = "starting"  # e.g. the AI Camera's firmware upload: not a failure
    body = {"status": status, "reason": reason, "detector": view.detector()}
    return JSONResponse({**body, "cameras": view.camera_status()}, 200 if ok else 503, NO_STORE)


async def metrics(request: Request) -> Response:
    """Prometheus text format, from the service's own registry."""
    body = await run_in_threadpool(generate_latest, ctx(request).registry)
    return Response(body, headers=NO_STORE, media_type=CONTENT_TYPE_LATEST)


async def latest_jpg(request: Request) -> Response:
    """The camera's latest analysed frame, drawn on unless ``?overlay=0``."""
    name = camera_name(request)
    overlay = request.query_params.get("overlay", "1") != "0"
    layers = _layers(request)
    jpeg = await run_in_threadpool(ctx(request).frames.jpeg, name, overlay, layers)
    if jpeg is None:
        return error(503, f"camera {name!r} has no analysed frame yet")
    return Response(jpeg, headers=NO_STORE, media_type="image/jpeg")


def _layers(request: Request) -> frozenset[str]:
    """``?layers=boxes,zones,...`` (default: all but motion); 400 naming an unknown one."""
    asked = request.query_params.get("layers")
    if asked is None:
        return DEFAULT_LAYERS
    found = frozenset(filter(None, asked.split(",")))
    unknown = sorted(found - set(LAYERS))
    if unknown:
        raise HTTPException(400, f"unknown layer {unknown[0]!r}; use {', '.join(LAYERS)}")
    return found


async def stream_mjpg(request: Request) -> Response:
    """MJPEG (``multipart/x-mixed-replace``) at most ``stream_fps``, while the client stays."""
    name = camera_name(request)
    overlay = request.query_params.get("overlay", "1") != "0"
    layers = _layers(request)
    context = ctx(request)

    async def parts() -> AsyncIterator[bytes]:
        last: bytes | None = None
        while context.closing is None or not context.closing.is_set():
            try:
                jpeg = await run_in_threadpool(context.frames.jpeg, name, overlay, layers)
            except KeyError:  # the camera was removed by a reload
                return
            if jpeg is not None and jpeg is not last:
                yield _part(jpeg)
                last = jpeg
            await asyncio.sleep(context.frames.interval)

    media = f"multipart/x-mixed-replace; boundary={BOUNDARY}"
    if request.method == "HEAD":  # the headers only: a stream would never end
        return Response(media_type=media, headers=NO_STORE)
    return StreamingResponse(parts(), media_type=media, headers=NO_STORE)


def _part(jpeg: bytes) -> bytes:
    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    return head.encode() + jpeg + b"\r\n"


async def not_found(request: Request, exc: Exception) -> Response:
    """404 naming the known top-level paths."""
    detail = exc.detail if isinstance(exc, HTTPException) else "not found"
    body = {"error": detail, "paths": ["/", "/healthz", "/metrics", "/api/cameras"]}
    return JSONResponse(body, 404, NO_STORE)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's HTTP errors (405, 400, ...) as JSON."""
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, exc.status_code, headers=exc.headers)


async def internal_error(request: Request, exc: Exception) -> Response:
    """500 as JSON; the guard around the app logs the failure once."""
    return error(500, "internal error")


def core_routes() -> list[BaseRoute]:
    """The routes every edgecam has kept since the first release."""
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/cameras/{camera}/latest.jpg", latest_jpg, methods=["GET"]),
        Route("/cameras/{camera}/stream.mjpg", stream_mjpg, methods=["GET"]),
    ]


def static_text(name: str) -> bytes:
    """A file shipped in ``edgecam/web/static``."""
    return resources.files("edgecam.web").joinpath("static", name).read_bytes()


def create_app(context: WebContext, routes: list[BaseRoute]) -> Guard:
    """The app with ``routes`` behind the :class:`Guard`."""
    app = Starlette(
        routes=routes,
        exception_handlers={404: not_found, HTTPException: http_error, Exception: internal_error},
    )
    app.state.ctx = context
    return Guard(app, context.policy)
