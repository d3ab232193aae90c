"""Logging for the server and CLI, set up in every process (uvicorn's workers do not inherit it)."""

import logging

FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"


def configure_logging(level: int = logging.INFO) -> None:
    """Our INFO lines (recovery, sandbox) to stderr; the ORM's start-up chatter only from WARNING."""
    logging.basicConfig(level=level, format=FORMAT)
    logging.getLogger("tortoise").setLevel(logging.WARNING)
