"""Notifications to a phone (or anywhere Apprise reaches), durable like the MQTT events."""
