"""`python -m app.cli <command>` (or the `prm` console script): one line per command in COMMANDS."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from app.cli import analytics_backfill, twilio_content, voice_send, whatsapp_sim

# Each command module has HELP, configure(parser) and run(args) -> exit status.
COMMANDS: dict[str, ModuleType] = {
    "whatsapp-sim": whatsapp_sim,
    "voice-send": voice_send,
    "analytics-backfill": analytics_backfill,
    "twilio-content": twilio_content,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the command."""
    parser = argparse.ArgumentParser(prog="prm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, module in COMMANDS.items():
        module.configure(commands.add_parser(name, help=module.HELP, description=module.HELP))
    args = parser.parse_args(argv)
    status: int = COMMANDS[args.command].run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
