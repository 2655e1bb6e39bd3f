"""The service's own log (reloads, incidents, workers) on standard error; apart so that the
supervisor of `--workers N` can log without loading the web application."""

from __future__ import annotations

import logging
import sys


def configure_logging() -> None:
    """Log the service's own messages (reloads, incidents) to standard error, once per process."""
    logger = logging.getLogger("bip")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
