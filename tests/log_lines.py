"""Every line the process's log handlers write, captured while a scenario runs."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager


def _loggers() -> list[logging.Logger]:
    named = [each for each in logging.Logger.manager.loggerDict.values() if isinstance(each, logging.Logger)]
    return [logging.getLogger(), *named]


@contextmanager
def every_log_line() -> Iterator[io.StringIO]:
    """Point every stream handler (Baton's Powertools handler among them, with its redaction)
    at one buffer, with its logger at DEBUG, and catch what reaches the root at INFO: more than
    a deployment writes."""
    out = io.StringIO()
    swapped: list[tuple[logging.StreamHandler[io.StringIO], object]] = []
    levels: list[tuple[logging.Logger, int]] = []
    for logger in _loggers()[1:]:
        # pytest's own capture handlers keep their streams: they are not the process's output.
        streams = [
            handler
            for handler in logger.handlers
            if isinstance(handler, logging.StreamHandler)
            and not type(handler).__module__.startswith("_pytest")
        ]
        swapped.extend((handler, handler.setStream(out)) for handler in streams)
        if streams:
            levels.append((logger, logger.level))
            logger.setLevel(logging.DEBUG)
    root = logging.getLogger()
    catch_all = logging.StreamHandler(out)
    level = root.level
    root.addHandler(catch_all)
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.setLevel(level)
        root.removeHandler(catch_all)
        for logger, previous in levels:
            logger.setLevel(previous)
        for handler, stream in swapped:
            if stream is not None:
                handler.setStream(stream)  # type: ignore[arg-type]
