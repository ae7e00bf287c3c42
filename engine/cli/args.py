"""Argument types the CLI's parser shares between its commands (engine.cli.base and
engine.cli.sweep): each refuses a bad value with one line naming it (argparse: exit 2)."""

import argparse

from engine.errors import shown

WAIT_S = 3600  # --wait of a control command
SWEEP_WAIT_S = 86_400  # a sweep may take a while


def wait_seconds(text: str, most: float = WAIT_S) -> float:
    """--wait: seconds to wait for the engine, 0 (do not wait) to `most`."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {shown(text)}") from None
    if not 0 <= value <= most:
        raise argparse.ArgumentTypeError(f"must be 0 (do not wait) to {most:g} seconds")
    return value


def sweep_wait_seconds(text: str) -> float:
    return wait_seconds(text, SWEEP_WAIT_S)
