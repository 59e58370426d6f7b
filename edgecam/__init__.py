"""edgecam: a headless object-detection camera service for edge devices."""

__version__ = "0.1.0"
