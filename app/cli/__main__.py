"""`python -m app.cli <command> ...`: one subcommand per tool."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from app.cli import voice_send

# Each tool: (its name, a one-line help, a function adding its arguments, the function running it).
COMMANDS: tuple[
    tuple[str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]], ...
] = (
    (
        "voice-send",
        "sign a voice-agent event (JSON file) and post it to the PRM",
        voice_send.arguments,
        voice_send.run,
    ),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen tool; its exit status."""
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, summary, add_arguments, run in COMMANDS:
        sub = commands.add_parser(name, help=summary, description=summary)
        add_arguments(sub)
        sub.set_defaults(run=run)
    args = parser.parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
