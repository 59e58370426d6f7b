"""The service: the composition root (``Service``, builders, reload) and its systemd plumbing."""
