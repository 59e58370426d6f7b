"""Tracking: stable ids for detections across frames (a pipeline stage between detect and rules)."""
