"""Event clips: a RAM ring of encoded packets per camera, remuxed into MP4 around each event."""
