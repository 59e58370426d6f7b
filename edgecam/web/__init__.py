"""The web server: health, metrics, live views, the JSON API and the zone editor (Starlette)."""
