"""Logging: every line goes through Prefect's logger when inside a flow or task run (so the Prefect UI shows it),
else the standard ``yos`` logger, and is prefixed with the partner, feed and extract it is about. Nothing else
identifies a line: never a secret, never a child's identifier."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any


class _Context(logging.LoggerAdapter):
    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        return f"[{self.extra['where']}] {msg}", kwargs


def _base() -> logging.Logger | logging.LoggerAdapter:
    try:
        from prefect.context import FlowRunContext, TaskRunContext
        from prefect.logging import get_run_logger

        if TaskRunContext.get() or FlowRunContext.get():
            return get_run_logger()
    except ImportError:  # pragma: no cover - prefect is a dependency
        pass
    return logging.getLogger("yos")


def feed_logger(partner: str = "-", feed: str = "-", extract: str = "-") -> logging.LoggerAdapter:
    """A logger whose every line names ``partner/feed/extract``."""
    return _Context(_base(), {"where": f"{partner}/{feed}/{extract}"})


def to_stderr() -> None:
    """Show the ``yos`` logger's lines (INFO and above) on standard error: for a long-running command outside a
    Prefect run (``yos intake watch``), whose every action is otherwise silent."""
    logger = logging.getLogger("yos")
    if not any(getattr(h, "yos_stderr", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s"))
        handler.yos_stderr = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
