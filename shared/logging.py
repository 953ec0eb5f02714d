"""JSON logs with a correlation id that follows a piece of work from the HTTP request into
the events it causes and on into the logs of the consumers that handle them."""

import logging
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import structlog

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def current_correlation_id() -> str | None:
    return correlation_id_var.get()


@contextmanager
def correlated(correlation_id: str | None) -> Iterator[None]:
    """Work done inside (log lines, events written) carries ``correlation_id``."""
    token = correlation_id_var.set(correlation_id)
    try:
        yield
    finally:
        correlation_id_var.reset(token)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def _add_correlation_id(
    _: object, __: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    correlation_id = correlation_id_var.get()
    if correlation_id is not None:
        event_dict.setdefault("correlation_id", correlation_id)
    return event_dict


class RepeatWindow:
    """One line per kind of line every ``window`` seconds; the next one let through says how
    many were held back. The standard library has no rate limit and the small packages that
    add one are unmaintained; this is a dozen lines."""

    def __init__(self, window: float = 10.0) -> None:
        self.window = window
        self._last: dict[object, float] = {}
        self._held: dict[object, int] = {}

    def admit(self, key: object, at: float) -> int | None:
        """How many like it were held back, when this one goes through; None holds it."""
        if at - self._last.get(key, float("-inf")) < self.window:
            self._held[key] = self._held.get(key, 0) + 1
            return None
        self._last[key] = at
        return self._held.pop(key, 0)


class RepeatThrottle(logging.Filter):
    """Throttles the standard library's records of loggers under ``prefixes``: while the broker
    is away aiokafka logs each failed connection attempt of every client, tens of lines a second
    for as long as the outage lasts, which buries everything else an operator needs to read."""

    def __init__(self, prefixes: tuple[str, ...], window: float = 10.0) -> None:
        super().__init__()
        self._prefixes = prefixes
        self._window = RepeatWindow(window)

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self._prefixes):
            return True
        held = self._window.admit((record.name, record.msg), record.created)
        if held is None:
            return False
        if held:
            record.msg = (
                f"{record.msg} ({held} like it held back in the last {self._window.window:g} s)"
            )
        return True


class RepeatedWarnings:
    """Throttles the service's own warnings by event: a seed of 1,271 customers no manager
    could take logged manager.none_available 1,271 times. One line per event every window,
    with ``held_back`` counting the others."""

    def __init__(self, window: float = 10.0) -> None:
        self._window = RepeatWindow(window)

    def __call__(
        self, logger: object, method: str, event_dict: structlog.types.EventDict
    ) -> structlog.types.EventDict:
        if method not in ("warning", "warn"):
            return event_dict
        held = self._window.admit(event_dict.get("event"), time.monotonic())
        if held is None:
            raise structlog.DropEvent
        if held:
            event_dict["held_back"] = held
        return event_dict


# How long one field of a log line may be. A database error's text carries its statement and
# parameters: a deadlock's listed 10,000 characters of lock keys in one line.
LONGEST_FIELD = 1000
LONGEST_TRACEBACK = 8000


def bound_fields(
    logger: object, method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    for name, value in event_dict.items():
        limit = LONGEST_TRACEBACK if name == "exception" else LONGEST_FIELD
        if isinstance(value, str) and len(value) > limit:
            event_dict[name] = f"{value[:limit]}… ({len(value) - limit} more characters)"
    return event_dict


def configure_logging(*, level: str = "INFO", json: bool = True) -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer()
    )
    shared_processors: list[structlog.types.Processor] = [
        RepeatedWarnings(),
        structlog.contextvars.merge_contextvars,
        _add_correlation_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.processors.format_exc_info,
            bound_fields,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Libraries log through the standard library; render them the same way.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared_processors,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                bound_fields,
                renderer,
            ],
        )
    )
    handler.addFilter(RepeatThrottle(("aiokafka",)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
