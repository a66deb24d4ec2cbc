"""Twilio's Content API: the twilio/list-picker Contents the bot's lists are sent with, one per row count.

A list-picker needs no WhatsApp approval (it can only be sent inside the session window), so the PRM
makes its own: every text is a variable (1 body, 2 button, then title/id/description per row), so ten
Contents serve every list in every language. `python -m app.cli twilio-content` creates them once and
prints the PRM_TWILIO_LIST_PICKER_SIDS setting (docs/whatsapp-bot.md).
"""

from __future__ import annotations

from typing import Any

import httpx
import structlog

from adapters.twilio.messenger import FIRST_ROW_VARIABLE
from app.ports.messaging import MAX_LIST_CHOICES, MessageRejected, MessengerUnavailable

log = structlog.get_logger(__name__)

CONTENT_URL = "https://content.twilio.com/v1/Content"
LIST_PICKER = "twilio/list-picker"
FRIENDLY_NAME = "prm_list_picker_{count}"


def list_picker_definition(count: int) -> dict[str, Any]:
    """The Content resource of a list with `count` rows, all its texts variables (with sample values)."""
    if not 1 <= count <= MAX_LIST_CHOICES:
        raise ValueError(f"a list has 1 to {MAX_LIST_CHOICES} rows, not {count}")
    variables = {"1": "Free times with Dr. Rao:", "2": "Choose"}
    items = []
    for row in range(count):
        first = FIRST_ROW_VARIABLE + 3 * row
        title, item_id, description = (str(first + n) for n in range(3))
        variables |= {title: f"2 Dec 10:{row:02d} AM", item_id: f"option-{row + 1}", description: "Dr. Rao"}
        items.append(
            {"item": f"{{{{{title}}}}}", "id": f"{{{{{item_id}}}}}", "description": f"{{{{{description}}}}}"}
        )
    return {
        "friendly_name": FRIENDLY_NAME.format(count=count),
        "language": "en",
        "variables": variables,
        "types": {LIST_PICKER: {"body": "{{1}}", "button": "{{2}}", "items": items}},
    }


async def create_list_pickers(
    http: httpx.AsyncClient, *, account_sid: str, auth_token: str, url: str = CONTENT_URL
) -> dict[int, str]:
    """Create the ten list-picker Contents; their SIDs by row count."""
    auth = httpx.BasicAuth(account_sid, auth_token)
    sids: dict[int, str] = {}
    for count in range(1, MAX_LIST_CHOICES + 1):
        try:
            response = await http.post(url, json=list_picker_definition(count), auth=auth)
        except httpx.TransportError as exc:
            raise MessengerUnavailable(
                f"Twilio's Content API could not be reached ({type(exc).__name__})"
            ) from None
        answer = (
            response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        )
        sid = answer.get("sid") if isinstance(answer, dict) else None
        if response.status_code not in (200, 201) or not isinstance(sid, str):
            code = answer.get("code") if isinstance(answer, dict) else None
            log.warning("twilio.content.refused", rows=count, http_status=response.status_code, code=code)
            raise MessageRejected(
                f"Twilio refused the list-picker Content (HTTP {response.status_code}, code {code})",
                provider_code=str(code) if code is not None else None,
            )
        log.info("twilio.content.created", rows=count, sid=sid)
        sids[count] = sid
    return sids
