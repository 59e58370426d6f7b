"""Rules: turn detections over time into events."""
