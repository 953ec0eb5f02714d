"""Repeated library log lines (aiokafka during a broker outage) are thinned, not lost."""

import logging

from shared.logging import RepeatThrottle


def _record(name: str, msg: str, at: float) -> logging.LogRecord:
    record = logging.LogRecord(name, logging.ERROR, __file__, 1, msg, None, None)
    record.created = at
    return record


def test_a_repeated_line_passes_once_per_window_and_then_counts_the_rest() -> None:
    throttle = RepeatThrottle(("aiokafka",), window=10)
    template = "Unable connect to node with id %s: %s"
    passed = [throttle.filter(_record("aiokafka.conn", template, t)) for t in range(0, 10)]
    later = _record("aiokafka.conn", template, 10.5)

    assert passed == [True] + [False] * 9
    assert throttle.filter(later)
    assert later.msg.endswith("(9 like it held back in the last 10 s)")


def test_other_templates_and_loggers_pass_untouched() -> None:
    throttle = RepeatThrottle(("aiokafka",), window=10)

    assert throttle.filter(_record("aiokafka.conn", "first %s", 0))
    assert throttle.filter(_record("aiokafka.conn", "second %s", 0.1))
    assert all(throttle.filter(_record("crm.relay", "relay.failed", t / 10)) for t in range(5))
