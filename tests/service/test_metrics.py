"""Delivery figures gathered from the sinks for /metrics."""

from __future__ import annotations


def test_delivery_figures_from_sinks() -> None:
    from dataclasses import dataclass

    from edgecam.service.metrics import delivery_figures

    @dataclass
    class Reporting:
        def delivery_metrics(self) -> dict[str, float]:
            return {"events_published": 7, "events_pending": 2, "outbox_depth": 2}

    @dataclass
    class Box:
        depth: int = 3

    @dataclass
    class WithOutbox:
        outbox: Box

    figures = delivery_figures([Reporting(), WithOutbox(Box()), object()])
    assert figures == {"events_published": 7.0, "events_pending": 5.0, "outbox_depth": 5.0}
