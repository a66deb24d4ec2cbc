"""`prm twilio-content`: create the WhatsApp list-picker Contents (one per row count, 1-10) in the Twilio
account of PRM_TWILIO_ACCOUNT_SID and print the PRM_TWILIO_LIST_PICKER_SIDS line to configure.

Run once per Twilio account (each run creates ten new Contents); docs/whatsapp-bot.md, "Lists".
"""

from __future__ import annotations

import argparse
import asyncio
import json

import httpx

from adapters.twilio.content import CONTENT_URL, create_list_pickers
from app.config import get_settings
from app.ports.messaging import MessageRejected, MessengerUnavailable

HELP = "Create the WhatsApp list-picker Contents in Twilio and print the setting that names them"


def configure(parser: argparse.ArgumentParser) -> None:
    """twilio-content's arguments."""
    parser.add_argument("--url", default=CONTENT_URL, help="Twilio's Content API (default: %(default)s)")


async def _create(url: str) -> dict[int, str]:
    settings = get_settings()
    if not settings.twilio_account_sid or not settings.twilio_auth_token:
        raise MessageRejected("PRM_TWILIO_ACCOUNT_SID and PRM_TWILIO_AUTH_TOKEN are needed")
    async with httpx.AsyncClient(timeout=settings.messaging_timeout_seconds) as http:
        return await create_list_pickers(
            http,
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            url=url,
        )


def run(args: argparse.Namespace) -> int:
    """Create the Contents; 1 when Twilio refused or could not be reached."""
    try:
        sids = asyncio.run(_create(args.url))
    except (MessageRejected, MessengerUnavailable) as exc:
        print(f"not created: {exc}")  # noqa: T201
        return 1
    print(f"PRM_TWILIO_LIST_PICKER_SIDS='{json.dumps({str(k): v for k, v in sids.items()})}'")  # noqa: T201
    return 0
