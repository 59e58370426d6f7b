"""The pages and their scripts, served from the package (no CDN, no build step)."""

from __future__ import annotations

from functools import cache

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from edgecam.pipeline.annotate import palette_css
from edgecam.web.app import error, static_text

_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}  # fmt: skip
STATIC = frozenset(
    {"app.js", "editor.js", "events.js", "common.js", "style.css", "icon.svg", "palette.css"}
)
"""Every file under /static/: a name not listed is 404, so no path reaches the file system."""
SECURITY_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@cache
def _file(name: str) -> bytes:
    if name == "palette.css":  # the snapshots' colours, so the page draws what they draw
        return palette_css().encode()
    return static_text(name)


def _serve(name: str) -> Response:
    media = _TYPES[name[name.rindex(".") :]]
    return Response(_file(name), media_type=media, headers=SECURITY_HEADERS)


async def index(request: Request) -> Response:
    """The overview: every camera live, rule states, recent events."""
    return _serve("index.html")


async def editor(request: Request) -> Response:
    """The zone, line and mask editor of one camera (``?camera=NAME``)."""
    return _serve("editor.html")


async def events(request: Request) -> Response:
    """The events review page (filters, paging, timeline; deep links by query string)."""
    return _serve("events.html")


async def static(request: Request) -> Response:
    """A script or style sheet of the pages."""
    name = str(request.path_params["name"])
    if name not in STATIC:
        return error(404, f"no static file {name!r}")
    return _serve(name)


def page_routes() -> list[BaseRoute]:
    """``/``, ``/editor``, ``/events`` and ``/static/<name>``."""
    return [
        Route("/", index, methods=["GET"]),
        Route("/editor", editor, methods=["GET"]),
        Route("/events", events, methods=["GET"]),
        Route("/static/{name}", static, methods=["GET"]),
    ]
