"""Where the slowest firing events of the steady phase spent their time (issue #29: the tail).

The probe marks, in the detector's process, when a poll came back from the broker, when the
batch handler began (the messages decoded and the inbox claimed) and ended, when the offsets'
commit began (the transaction committed just before), when the relay handed the opportunity
to the producer, and every garbage collection; the load process gives the publication and
the arrival. The clock is ``perf_counter``, the system's monotonic clock, so the two
processes' readings compare. It wraps the bus and the handler the runtime is built with, and
costs a dictionary look-up a message."""

import gc
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.bus import Bus, BusConsumer, OutgoingMessage, ReceivedMessage, TopicPartition
from shared.consumer import BatchHandler


@dataclass
class _PollMarks:
    polled: float
    size: int
    cpu: float  # the process's CPU time when the poll came back
    handler_start: float | None = None
    handler_end: float | None = None
    committed: float | None = None


class PhaseProbe:
    def __init__(self) -> None:
        self.watched: set[str] = set()  # message keys (customers) of the firing events
        self.polls: list[_PollMarks] = []
        self.poll_of: dict[str, int] = {}
        self.published: dict[str, float] = {}
        self.collections: list[tuple[float, float, int]] = []  # start, end, generation
        self._gc_started = 0.0

    def watch(self, keys: Sequence[str]) -> None:
        self.watched.update(keys)

    def attach(self, bus: Bus) -> None:
        """Mark the polls and commits of every consumer the bus makes, and its publishing."""
        make_consumer, publish = bus.consumer, bus.publish

        def consumer(group: str, topics: Sequence[str], *, linger_ms: int = 0) -> BusConsumer:
            made = make_consumer(group, topics, linger_ms=linger_ms)
            poll, commit = made.poll, made.commit

            async def marked_poll(*, max_records: int, timeout: float) -> list[ReceivedMessage]:
                messages = await poll(max_records=max_records, timeout=timeout)
                if messages:
                    marks = _PollMarks(time.perf_counter(), len(messages), time.process_time())
                    self.polls.append(marks)
                    for message in messages:
                        key = (message.key or b"").decode()
                        if key in self.watched:
                            self.poll_of[key] = len(self.polls) - 1
                return messages

            async def marked_commit(offsets: dict[TopicPartition, int]) -> None:
                if self.polls and self.polls[-1].committed is None:
                    self.polls[-1].committed = time.perf_counter()
                await commit(offsets)

            made.poll = marked_poll  # type: ignore[method-assign]
            made.commit = marked_commit  # type: ignore[method-assign]
            return made

        async def marked_publish(messages: Sequence[OutgoingMessage]) -> None:
            now = time.perf_counter()  # handed to the producer (its acknowledgement comes later)
            for message in messages:
                key = (message.key or b"").decode()
                if key in self.watched:
                    self.published.setdefault(key, now)
            await publish(messages)

        bus.consumer = consumer  # type: ignore[method-assign]
        bus.publish = marked_publish  # type: ignore[method-assign]
        gc.callbacks.append(self._on_collection)

    def detach(self) -> None:
        if self._on_collection in gc.callbacks:
            gc.callbacks.remove(self._on_collection)

    def _on_collection(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.collections.append((self._gc_started, time.perf_counter(), info["generation"]))

    def handler(self, handler: BatchHandler) -> BatchHandler:
        async def marked(session: Any, items: list[Any]) -> None:
            if self.polls:
                self.polls[-1].handler_start = time.perf_counter()
            await handler(session, items)
            if self.polls:
                self.polls[-1].handler_end = time.perf_counter()

        return marked

    def polling(self, *, until: float) -> tuple[int, float]:
        """The events polled so far and the seconds from the first poll's return to ``until``:
        the detector's work with its start (joining the group, the first fetch) left out."""
        return sum(p.size for p in self.polls), until - self.polls[0].polled

    def backlog(self) -> str:
        """The mean poll of those so far, in milliseconds: steadier than the backlog's rate,
        which includes joining the group (each poll is timed to the next poll's return)."""
        polls = [p for p in self.polls if p.size > 1]
        pairs = [
            (a, b)
            for a, b in itertools.pairwise(polls)
            if a.handler_start is not None and a.handler_end is not None and a.committed
        ]
        if not pairs:
            return "  no polls"

        def mean(values: list[float]) -> float:
            return 1000 * sum(values) / len(values)

        size = sum(a.size for a, _ in pairs) / len(pairs)
        between = mean([b.polled - a.polled for a, b in pairs])
        cpu = mean([b.cpu - a.cpu for a, b in pairs])
        decode = mean([a.handler_start - a.polled for a, _ in pairs])  # type: ignore[operator]
        handler = mean([a.handler_end - a.handler_start for a, _ in pairs])  # type: ignore[operator]
        commit = mean([a.committed - a.handler_end for a, _ in pairs])  # type: ignore[operator]
        return (
            f"  detector, ms a poll of {size:.0f}: poll to poll {between:.1f} (CPU {cpu:.1f});"
            f" decode and claim {decode:.1f}, rules and writes {handler:.1f}, commit {commit:.1f}"
        )

    def report(self, sent: dict[str, float], seen: dict[str, float], slowest: int = 5) -> list[str]:
        """The phases, in milliseconds, of the ``slowest`` firing events that arrived."""
        order = sorted((k for k in sent if k in seen), key=lambda k: seen[k] - sent[k])
        lines = [
            "  slowest firing events, ms: broker→poll | decode+claim | rules+writes | commit"
            " | to relay | →watcher  (poll size; GC in the window)"
        ]
        for key in reversed(order[-slowest:]):
            lines.append("  " + self._phases(key, sent[key], seen[key]))
        return lines

    def _phases(self, key: str, sent: float, seen: float) -> str:
        total = 1000 * (seen - sent)
        index = self.poll_of.get(key)
        if index is None:
            return f"{total:7.1f}: not seen in a poll"
        marks = self.polls[index]
        points = [sent, marks.polled, marks.handler_start, marks.handler_end, marks.committed]
        points += [self.published.get(key), seen]
        spans = [_span(a, b) for a, b in itertools.pairwise(points)]
        collected = sum(
            end - start for start, end, _ in self.collections if start < seen and end > sent
        )
        gens = sorted({g for start, end, g in self.collections if start < seen and end > sent})
        return (
            f"{total:7.1f} = "
            + " | ".join(spans)
            + f"  ({marks.size}; GC {1000 * collected:.1f} ms gen {gens or '-'})"
        )


def _span(start: float | None, end: float | None) -> str:
    return "    ?" if start is None or end is None else f"{1000 * (end - start):5.1f}"
