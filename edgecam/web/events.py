"""The events API routes (docs/events.md): the events store's events, snapshots and clips.

Clips are served as files with HTTP range requests (Starlette's ``FileResponse``), so a
browser's video element can seek. Without an events store (``events.enabled: false``) the list
and snapshots come from the page's in-memory recent events, as before.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from edgecam.events import api
from edgecam.events.store import EventStore
from edgecam.web.app import NO_STORE, ctx, error
from edgecam.web.clock import device_zone
from edgecam.web.recent import RecentEvents

RECENT_LIMIT = 50


def _store(request: Request) -> EventStore | None:
    found = ctx(request).extra.get("events")
    return found if isinstance(found, EventStore) else None


def _recent(request: Request) -> RecentEvents | None:
    found = ctx(request).extra.get("recent")
    return found if isinstance(found, RecentEvents) else None


async def events(request: Request) -> Response:
    """Events, newest first, filtered and paged (docs/events.md); ``total`` counts every match."""
    store = _store(request)
    params = dict(request.query_params)
    if store is None:
        return _recent_events(request, params)
    _, tz = device_zone(ctx(request).view.config())
    try:
        query = api.parse_query(params, tz)
    except api.ApiError as err:
        return error(err.status, str(err))

    def page() -> dict[str, object]:
        found = store.find(query.where, query.limit, query.offset)
        total = store.count(query.where)
        body = [api.event_json(e) for e in found]
        return {"events": body, "total": total, "offset": query.offset, "limit": query.limit}

    return JSONResponse(await run_in_threadpool(page), headers=NO_STORE)


async def summary(request: Request) -> Response:
    """The day-by-day timeline of the filtered events (all days) and the unreviewed per camera."""
    store = _store(request)
    zone, tz = device_zone(ctx(request).view.config())
    if store is None:
        return JSONResponse({"timezone": zone, "days": [], "unreviewed": {}}, headers=NO_STORE)
    params = {k: v for k, v in request.query_params.items() if k not in ("day", "since", "until")}
    try:
        query = api.parse_query(params, tz)
    except api.ApiError as err:
        return error(err.status, str(err))

    def made() -> dict[str, object]:
        days = api.timeline(store.starts(query.where), tz)
        return {"timezone": zone, "days": days, "unreviewed": store.unreviewed()}

    return JSONResponse(await run_in_threadpool(made), headers=NO_STORE)


async def reviewed(request: Request) -> Response:
    """Mark an event reviewed (``{"reviewed": true}``) or not; kept in the events store."""
    store = _store(request)
    if store is None:
        return error(404, "events are not kept (events.enabled is false)")
    event_id = str(request.path_params["event_id"])
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError) as err:
        return error(400, f"invalid JSON: {err}")
    value = body.get("reviewed", True) if isinstance(body, dict) else None
    if not isinstance(value, bool):
        return error(400, 'expected {"reviewed": true} or {"reviewed": false}')
    try:
        await run_in_threadpool(api.find, store, event_id)
    except api.ApiError as err:
        return error(err.status, str(err))
    await run_in_threadpool(store.mark_reviewed, event_id, value)
    return JSONResponse({"id": event_id, "reviewed": value}, headers=NO_STORE)


def _recent_events(request: Request, params: dict[str, str]) -> Response:
    limit = params.get("limit", str(RECENT_LIMIT))
    if not limit.isdigit() or not 1 <= int(limit) <= RECENT_LIMIT:
        return error(400, f"limit must be a whole number from 1 to {RECENT_LIMIT}")
    recent = _recent(request)
    found = recent.events(int(limit)) if recent is not None else []
    return JSONResponse({"events": found}, headers=NO_STORE)


async def event(request: Request) -> Response:
    """One event with its snapshot and clip (their URLs and the clip's status)."""
    store = _store(request)
    if store is None:
        return error(404, "events are not kept (events.enabled is false)")
    try:
        found = await run_in_threadpool(api.find, store, str(request.path_params["event_id"]))
    except api.ApiError as err:
        return error(err.status, str(err))
    return JSONResponse(api.event_json(found), headers=NO_STORE)


async def event_snapshot(request: Request) -> Response:
    """The event's snapshot (JPEG)."""
    return await _media(request, "snapshot.jpg", "image/jpeg")


async def event_clip(request: Request) -> Response:
    """The event's clip (MP4), with range requests."""
    return await _media(request, "clip.mp4", "video/mp4")


async def _media(request: Request, kind: str, media_type: str) -> Response:
    event_id = str(request.path_params["event_id"])
    store = _store(request)
    if store is None:
        recent = _recent(request)
        jpeg = recent.snapshot_jpeg(event_id) if recent and kind == "snapshot.jpg" else None
        if jpeg is None:
            return error(404, f"no {kind.split('.', 1)[0]} kept for event {event_id!r}")
        return Response(jpeg, media_type=media_type, headers=NO_STORE)
    try:
        path = await run_in_threadpool(api.media_file, store, event_id, kind)
    except api.ApiError as err:
        return error(err.status, str(err))
    # A clip or snapshot never changes once written: caching is safe.
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "max-age=3600"})


def event_routes() -> list[BaseRoute]:
    """The ``/api/events`` routes."""
    return [
        Route("/api/events", events, methods=["GET"]),
        Route("/api/events/summary", summary, methods=["GET"]),
        Route("/api/events/{event_id}/reviewed", reviewed, methods=["POST"]),
        Route("/api/events/{event_id}", event, methods=["GET"]),
        Route("/api/events/{event_id}/snapshot.jpg", event_snapshot, methods=["GET"]),
        Route("/api/events/{event_id}/clip.mp4", event_clip, methods=["GET"]),
    ]
