"""The events store: every event kept in SQLite, with its snapshot and clip, for the API."""
