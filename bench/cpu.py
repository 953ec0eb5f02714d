"""Where a benchmark's CPU went, process by process, and how fast a core was that day.

On a machine whose cores the services share with PostgreSQL, the broker and the load, a
latency figure means little without the whole budget beside it: who used the cores, and whether
they were all in use. The same code measured on two days moved by a factor of two with the
same CPU a transaction; the reference loop says whether the machine itself was slower."""

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
REFERENCE_SIZE = 1_000_000
LOAD = "the load and the watcher"


def with_children(pids: Iterable[int]) -> list[int]:
    """The processes and their living descendants (`crm run`'s workers, PostgreSQL's backends)."""
    found, pending = [], list(pids)
    while pending:
        pid = pending.pop()
        found.append(pid)
        for children in Path(f"/proc/{pid}/task").glob("*/children"):
            pending += [int(child) for child in children.read_text().split()]
    return found


def _cpu_seconds(pid: int) -> float:
    """User and system time; 0 for a process gone meanwhile (a backend whose client left)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _name(pid: int) -> str:
    """A service's process by its command (``crm serve events --part worker``)."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except FileNotFoundError:
        return str(pid)
    tail = [w for w in words if w][1:]
    start = next((i for i, word in enumerate(tail) if word.endswith("crm")), None)
    if start is None:
        return " ".join(tail)[:40]
    command = ["crm", *tail[start + 1 :]]
    # Options after the subcommand say where it runs (ports, data dir), not what it is.
    if "--data-dir" in command:
        command = command[: command.index("--data-dir")]
    return " ".join(command)


@dataclass
class CpuAccount:
    """CPU seconds from :meth:`start` to :meth:`stop`: each service's process by its command,
    each server (PostgreSQL with its backends, the broker) as a whole, and this process (the
    load and the watcher). A process that ends within the window loses what it used."""

    services: tuple[int, ...]
    servers: dict[str, int]
    _begun: dict[str, float] = field(default_factory=dict)
    _wall: float = 0.0

    def _now(self) -> dict[str, float]:
        used: dict[str, float] = {}
        for pid in with_children(self.services):
            name = _name(pid)
            used[name] = used.get(name, 0.0) + _cpu_seconds(pid)
        for name, pid in self.servers.items():
            used[name] = sum(_cpu_seconds(p) for p in with_children([pid]))
        times = os.times()
        used[LOAD] = times.user + times.system
        return used

    def start(self) -> None:
        self._begun, self._wall = self._now(), time.monotonic()

    def stop(self) -> tuple[dict[str, float], float]:
        """Seconds each used in the window, and the window's wall-clock length."""
        ended, wall = self._now(), time.monotonic() - self._wall
        return {name: used - self._begun.get(name, 0.0) for name, used in ended.items()}, wall

    def services_seconds(self, used: dict[str, float]) -> float:
        """The services' processes' seconds alone (the watcher's reads are served by them)."""
        return sum(v for k, v in used.items() if k not in self.servers and k != LOAD)


def report(prefix: str, used: dict[str, float], wall: float, transactions: int) -> str:
    total = sum(used.values())
    cores = os.cpu_count() or 1
    shares = ", ".join(
        f"{name} {seconds / transactions * 1e6:.0f}"
        for name, seconds in sorted(used.items(), key=lambda item: -item[1])
    )
    return (
        f"{prefix} all CPU in the phase: {total:.1f} s of {cores} cores over {wall:.1f} s "
        f"({total / (cores * wall):.0%} busy); µs a transaction: {shares}"
    )


def machine_line() -> str:
    """The reference loop's time, printed before anything starts."""
    return f"[machine] the reference loop took {reference_loop_ms():.1f} ms (best of 5)"


def reference_loop_ms(rounds: int = 5) -> float:
    """The best of ``rounds`` of a fixed pure-Python loop on one core, in ms: compare it between
    days before comparing their latencies."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        sum(i * i for i in range(REFERENCE_SIZE))
        best = min(best, time.perf_counter() - started)
    return best * 1000
