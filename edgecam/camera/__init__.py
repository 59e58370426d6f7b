"""Frame sources (cameras, streams, files) and the capture side of the pipeline."""
