"""Clip settings: per rule (``clip: {pre, post, max}``) and for the whole service (``clips:``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from edgecam.schema import Duration, StrictModel


class RuleClipConfig(StrictModel):
    """A video clip of each event: ``pre`` seconds before its start to ``post`` after its end."""

    pre: Duration = Field(default=5.0, ge=0.0, le=60.0)
    """Seconds before the event's start (from the camera's RAM ring buffer)."""
    post: Duration = Field(default=5.0, ge=0.0, le=300.0)
    """Seconds after the event's end."""
    max: Duration = Field(default=120.0, gt=0.0, le=3600.0)
    """Longest clip; an event that lasts longer gets a clip that ends here (and says so)."""

    @model_validator(mode="after")
    def _fits(self) -> RuleClipConfig:
        if self.max <= self.pre:
            raise ValueError("max must be longer than pre")
        return self


class EncodeConfig(StrictModel):
    """H.264 encoding for cameras that give only decoded frames (USB cameras, non-H.264 files).

    Cameras that deliver H.264 (RTSP, the Pi camera's encoder) are never re-encoded.
    """

    max_width: int = Field(default=640, ge=64, le=3840)
    """Frames wider than this are scaled down first (keeps the encoder's cost bounded)."""
    fps: float = Field(default=10.0, gt=0.0, le=30.0)
    """Most frames per second encoded; faster cameras have frames skipped."""
    crf: int = Field(default=28, ge=0, le=51)
    """x264 quality (lower is better and larger); 28 suits a security clip."""
    keyframe_interval: Duration = Field(default=1.0, gt=0.0, le=10.0)
    """Seconds between keyframes: how exactly a clip can start ``pre`` seconds early."""


class ClipsConfig(StrictModel):
    """The RAM ring each camera keeps for pre-roll, and the encoding of raw cameras.

    Where clips are stored and how many are kept is the events store's (``events:``).
    """

    buffer_bytes: int = Field(default=24_000_000, ge=100_000, le=1_000_000_000)
    """RAM for each camera's ring of encoded video (the pre-roll); about 20 s at 8 Mbit/s."""
    max_clip_bytes: int = Field(default=200_000_000, ge=100_000)
    """Most bytes of one clip held in RAM until it is written; a larger clip ends there."""
    encode: EncodeConfig = Field(default_factory=EncodeConfig)
    """Encoding of cameras without an encoded stream."""
