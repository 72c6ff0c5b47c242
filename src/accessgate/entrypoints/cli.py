"""The ``accessgate`` command line.

Each subcommand is one function registered in :data:`COMMANDS`; nothing is
built before a command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import accessgate

Handler = Callable[[argparse.Namespace], int]
Setup = Callable[[argparse.ArgumentParser], None]
COMMANDS: dict[str, tuple[str, Setup, Handler]] = {}


def command(
    name: str, help_text: str, setup: Setup = lambda parser: None
) -> Callable[[Handler], Handler]:
    """Register a subcommand: its name, one line of help, and its arguments."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = (help_text, setup, handler)
        return handler

    return register


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="accessgate", description=accessgate.__doc__)
    parser.add_argument("--version", action="version", version=accessgate.__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, setup, handler) in COMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        setup(child)
        child.set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
