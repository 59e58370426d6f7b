"""Publishing: where events, states and stats go (JSON lines, MQTT)."""
