"""The web server's threads are a small fixed pool, however many requests come at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from edgecam.service.metrics import thread_count
from edgecam.web.server import WORKERS
from tests.web.fakes import Client, serving


def test_a_burst_of_requests_uses_a_fixed_pool_of_worker_threads() -> None:
    with serving() as (_view, server):
        client = Client(server)
        assert client.request("GET", "/metrics")[0] == 200
        before = {t.ident for t in threading.enumerate()}
        with ThreadPoolExecutor(32) as pool:  # the test's own client threads
            codes = list(pool.map(lambda _: client.request("GET", "/metrics")[0], range(200)))
        assert codes == [200] * 200
        workers = [t for t in threading.enumerate() if t.ident not in before and "AnyIO" in t.name]
        assert len(workers) <= WORKERS, [t.name for t in workers]
        assert thread_count() >= threading.active_count()  # the kernel counts native ones too
