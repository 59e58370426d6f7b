"""The notifier: an event sink that turns the events of rules with ``notify:`` into messages.

Built idle from the config (every target's URL read and parsed, nothing sent); :meth:`start`
opens the durable queues and starts the delivery worker. :meth:`emit` runs on the pipeline
thread: it decides (type, schedule, cooldown), renders and stores, and returns; the worker
sends. A snapshot drawn for the event (snapshot thread) is kept beside the queue and attached.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from edgecam.event import Event
from edgecam.notify.config import NotifyConfig
from edgecam.notify.delivery import Delivery, SendsMessages, TargetState
from edgecam.notify.gate import Gate
from edgecam.notify.message import Notification, event_fields, event_wall, render
from edgecam.notify.queue import TargetQueue, store_snapshot
from edgecam.publish.outbox import default_outbox_path
from edgecam.publish.topics import RuleLike
from edgecam.ratelimit import RateLimitedLog
from edgecam.rules.schedule import zone_of

log = logging.getLogger(__name__)

SenderFactory = Callable[[str, Path], SendsMessages]
COOLDOWNS = "cooldowns.json"
"""Running cooldowns, kept in the queue directory across restarts and reloads."""


def default_directory() -> Path:
    """Where the queues live when ``notify.path`` is not set: ``notify/`` beside the outbox."""
    return default_outbox_path().parent / "notify"


def apprise_sender(name: str, url_file: Path) -> SendsMessages:
    """The real sender of a target: its URL read from ``url_file``, parsed by Apprise."""
    from edgecam.notify.targets import Sender, read_url

    return Sender(name, read_url(url_file, f"notify.targets.{name}.url_file "))


class NotifySink:
    """Queues notifications for the targets that rules name, and sends them on its own thread."""

    def __init__(
        self,
        config: NotifyConfig,
        rules: Sequence[RuleLike],
        *,
        device: str = "",
        sender: SenderFactory = apprise_sender,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.device = device
        self.directory = config.path or default_directory()
        self._clock = clock
        self._tz = zone_of(config.timezone)
        self._senders = {name: sender(name, t.url_file) for name, t in config.targets.items()}
        self.gate = Gate(config.targets)
        self._rules: dict[str, tuple[list[str], bool]] = {}
        self.retarget([], rules)
        self._lock = threading.Lock()
        self._early: list[tuple[str, Notification]] = []
        """Emitted before :meth:`start` (a reload swaps sinks in, then starts them)."""
        self._awaiting: dict[tuple[str, str], list[tuple[str, str, float]]] = {}
        """(camera, rule) -> (target, event id, queued at) of notifications awaiting a snapshot."""
        self.delivery: Delivery | None = None
        self._noisy = RateLimitedLog(log)
        self._resume_cooldowns()

    # --- the sink interface ---

    def retarget(self, cameras: Sequence[str], rules: Sequence[RuleLike]) -> None:
        """The rules changed (a reload): which targets each rule notifies."""
        del cameras
        self._rules = {
            rule.name: (list(getattr(rule, "notify", [])), bool(getattr(rule, "snapshot", False)))
            for rule in rules
            if getattr(rule, "notify", None)
        }

    def start(self) -> None:
        """Open the queues and start sending (what earlier runs left is sent first)."""
        queues: dict[str, TargetState] = {}
        for name, settings in self.config.targets.items():
            queue = TargetQueue(self.directory, name, self.config.max_pending)
            queue.sweep(self.config.max_age + 3600.0)
            takes = getattr(self._senders[name], "takes_attachments", True)
            queues[name] = TargetState(queue, self._senders[name], settings.attach and takes)
            if queue.depth:
                log.info("notify %s: %d notification(s) pending from before", name, queue.depth)
        self._resume_cooldowns()  # the ones a reload's old notifier wrote since we were built
        delivery = Delivery(self.config, self.directory, queues, clock=self._clock)
        with self._lock:
            self.delivery = delivery
            early, self._early = self._early, []
            for target, note in early:
                delivery.targets[target].queue.add(note)
        delivery.start()

    def emit(self, event: Event) -> None:
        """Queue a notification for each target of the event's rule that the gate lets through."""
        wanted = self._rules.get(event.rule)
        if wanted is None:
            return
        targets, draws_snapshot = wanted
        wall = event_wall(event)
        fields: dict[str, str] | None = None
        for name in targets:
            config = self.config.targets.get(name)
            if config is None or self.gate.decide(name, event, wall) != "send":
                continue
            if config.cooldown:
                self._keep_cooldowns(wall)
            if fields is None:
                fields = event_fields(event, self._tz, device=self.device)
            snapshot = draws_snapshot and event.type != "end" and config.attach
            note = Notification(
                event.id, render(config.title, fields), render(config.body, fields),
                snapshot, self._clock(),
            )  # fmt: skip
            self._queue(name, note, (event.camera, event.rule))

    def _resume_cooldowns(self) -> None:
        """Cooldowns outlive a restart or a reload: a crash loop must not repeat a message."""
        try:
            data = json.loads((self.directory / COOLDOWNS).read_text())
        except (OSError, ValueError):
            return  # none yet, or unreadable: every cooldown starts afresh
        if isinstance(data, dict):
            self.gate.resume(data)

    def _keep_cooldowns(self, now: float) -> None:
        path = self.directory / COOLDOWNS
        temp = path.with_suffix(".tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temp.write_text(json.dumps(self.gate.cooling(now)))
            temp.replace(path)
        except OSError as err:  # they hold in memory; only a restart forgets them
            self._noisy.warning("cooldowns", "notify: cannot keep cooldowns in %s: %s", path, err)

    def _queue(self, target: str, note: Notification, key: tuple[str, str]) -> None:
        with self._lock:
            if note.snapshot:
                self._awaiting.setdefault(key, []).append((target, note.event_id, note.created))
            if self.delivery is None:
                self._early.append((target, note))
                return
            delivery = self.delivery
        delivery.targets[target].queue.add(note)
        delivery.wake(target)

    def snapshot(self, camera: str, rule: str, jpeg: bytes) -> None:
        """The rule's snapshot was drawn: keep it for every notification awaiting it."""
        with self._lock:
            waiting = self._awaiting.pop((camera, rule), [])
            self._forget_stale()
            delivery = self.delivery
        # The alerts of one frame share its snapshot; an older one whose own never came does not
        # get a later frame's picture.
        since = self._clock() - self.config.snapshot_wait
        waiting = [w for w in waiting if w[2] >= since]
        for target, event_id, _queued in waiting:
            # By path, not through the queue: before start (a reload) there is no queue yet.
            folder = TargetQueue.snapshot_dir(self.directory, target)
            store_snapshot(folder, event_id, jpeg, self._noisy)
            if delivery is not None:
                delivery.wake(target)

    def _forget_stale(self) -> None:
        """Drop waiters whose snapshot never came (dropped by the snapshot worker)."""
        limit = self._clock() - self.config.snapshot_wait - 1.0
        for key in [k for k, v in self._awaiting.items() if v[-1][2] < limit]:
            del self._awaiting[key]

    def close(self) -> None:
        """Stop sending (after the send in progress) and close the queues; pending ones stay."""
        delivery = self.delivery
        if delivery is None:
            return
        if not delivery.close(timeout=30.0):
            log.warning("notify: a send is still in progress; its queue closes when it ends")
            return
        for state in delivery.targets.values():
            state.queue.close()

    # --- what the service reports ---

    def degraded(self) -> list[str]:
        """Targets failing for longer than ``failing_after``, and queues that cannot be stored."""
        reasons: list[str] = []
        delivery = self.delivery
        if delivery is None:
            return reasons
        now = self._clock()
        for name, state in delivery.targets.items():
            since = state.failing_since
            if since is not None and now - since >= self.config.failing_after:
                reasons.append(
                    f"notify target {name} failing for {now - since:.0f} s "
                    f"({state.queue.depth} pending): {state.last_error}"
                )
            if (why := state.queue.outbox.degraded) is not None:
                reasons.append(f"notify target {name} queue: {why}")
        return reasons

    def figures(self) -> Mapping[str, Mapping[str, float]]:
        """Per target: ``sent``, ``failed``, ``pending``, ``dropped_*``, ``suppressed_*``."""
        delivery = self.delivery
        out: dict[str, dict[str, float]] = {}
        # Copies (one C call each): the pipeline and worker threads add keys meanwhile.
        suppressed = dict(self.gate.suppressed)
        for name in self.config.targets:
            row: dict[str, float] = {"sent": 0, "failed": 0, "pending": 0}
            if delivery is not None and (state := delivery.targets.get(name)) is not None:
                row.update(sent=state.sent, failed=state.failed, pending=state.queue.depth)
                row.update({f"dropped_{k}": v for k, v in dict(state.dropped).items()})
                row["dropped_full"] = state.queue.dropped + state.queue.outbox.dropped
                row["dropped_lost"] = state.queue.outbox.lost
            for (target, reason), count in suppressed.items():
                if target == name:
                    row[f"suppressed_{reason}"] = count
            out[name] = row
        return out
