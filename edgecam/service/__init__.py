"""The service: wiring the stages together and running them."""
