"""`whatsapp-sim`: chat with the bot of the running stack from a terminal, without Twilio.

Each line is POSTed to `/webhooks/whatsapp/twilio` exactly as Twilio posts it (form fields, a fresh
MessageSid, `X-Twilio-Signature` over PRM_PUBLIC_BASE_URL + path with PRM_TWILIO_AUTH_TOKEN); the
replies are read back from the inbox API (`/api/v1/conversations?phone=`, then the thread's messages)
with a staff key, so what is printed is what the clinic's records hold.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import ValidationError

from adapters.twilio.signing import webhook_signature
from app.config import Role, Settings
from app.language.phones import InvalidPhone, normalize_phone

HELP = "Chat with the WhatsApp bot of the running stack, signed like Twilio (no Twilio needed)"
INBOUND_PATH = "/webhooks/whatsapp/twilio"
# Twilio's WhatsApp sandbox number: the "To" when PRM_TWILIO_WHATSAPP_FROM is not set.
SANDBOX_WHATSAPP = "+14155238886"
POLL_SECONDS = 0.5
# Once a reply arrived, wait this long for the rest of a multi-message answer.
SETTLE_SECONDS = 1.5
DEFAULT_TIMEOUT_SECONDS = 20.0
PROMPT = "you> "
NO_REPLY = "(no reply within {timeout:g} s: is a worker running? `make run` starts one)"


class SimulatorError(Exception):
    """Something the person running the simulator must fix (wrong token, API down ...)."""


@dataclass(frozen=True)
class SimConfig:
    """Where the simulator posts and reads, and as whom."""

    api: str  # base URL the simulator calls
    public_url: str  # base URL the API verifies signatures against (PRM_PUBLIC_BASE_URL)
    auth_token: str
    staff_key: str
    patient: str  # E.164
    clinic: str  # E.164 of the clinic's WhatsApp sender
    profile_name: str = "WhatsApp Simulator"


@dataclass
class WhatsAppSim:
    """One patient's chat: send lines as Twilio would, read new outbound messages from the inbox."""

    config: SimConfig
    client: httpx.Client
    conversation: str | None = None
    seen: set[str] = field(default_factory=set)
    # The interactive mode reads replies in a second thread while this one sends.
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, text: str) -> str:
        """POST one inbound message, signed; its MessageSid. SimulatorError unless the API answers 200."""
        sid = "SM" + uuid.uuid4().hex
        form = {
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "AccountSid": "AC" + uuid.uuid5(uuid.NAMESPACE_URL, self.config.api).hex,
            "From": f"whatsapp:{self.config.patient}",
            "To": f"whatsapp:{self.config.clinic}",
            "Body": text,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
            "ProfileName": self.config.profile_name,
            "WaId": self.config.patient.lstrip("+"),
        }
        signature = webhook_signature(
            self.config.auth_token, self.config.public_url.rstrip("/") + INBOUND_PATH, form
        )
        headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
        response = self._call("POST", INBOUND_PATH, content=urlencode(form), headers=headers)
        if response.status_code == 403:
            raise SimulatorError(
                "the API refused the signature (403): the simulator signs with PRM_TWILIO_AUTH_TOKEN over "
                f"{self.config.public_url}{INBOUND_PATH}; use the API's token (--token) and PRM_PUBLIC_BASE_URL "
                "(--public-url)"
            )
        if response.status_code != 200:
            raise SimulatorError(f"the webhook answered {response.status_code}: {_error(response)}")
        return sid

    def thread_messages(self) -> list[dict[str, Any]]:
        """Every message of the patient's WhatsApp thread, oldest first (none before the first is stored)."""
        if self.conversation is None:
            threads = self._get("/api/v1/conversations", params={"phone": self.config.patient})
            whatsapp = [t for t in threads if t.get("channel") == "whatsapp"]
            if not whatsapp:
                return []
            self.conversation = str(whatsapp[0]["id"])
        messages: list[dict[str, Any]] = self._get(f"/api/v1/conversations/{self.conversation}/messages")
        return messages

    def mark_seen(self) -> int:
        """Take every message stored so far as already shown; how many there were."""
        messages = self.thread_messages()
        self.seen.update(m["id"] for m in messages)
        return len(messages)

    def new_replies(self) -> list[dict[str, Any]]:
        """Outbound messages (bot or staff) not shown yet."""
        with self.lock:
            messages = self.thread_messages()
            fresh = [m for m in messages if m["id"] not in self.seen and m["direction"] == "outbound"]
            self.seen.update(m["id"] for m in fresh)
            return fresh

    def wait_for_replies(
        self, timeout: float, sleep: Callable[[float], None] = time.sleep
    ) -> list[dict[str, Any]]:
        """Poll for new replies until some came and SETTLE_SECONDS passed quietly, or `timeout` passed."""
        replies: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        settle_until: float | None = None
        while time.monotonic() < deadline and (settle_until is None or time.monotonic() < settle_until):
            fresh = self.new_replies()
            if fresh:
                replies.extend(fresh)
                settle_until = time.monotonic() + SETTLE_SECONDS
            sleep(POLL_SECONDS)
        return replies

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        response = self._call(
            "GET", path, params=params, headers={"Authorization": f"Bearer {self.config.staff_key}"}
        )
        if response.status_code in (401, 403):
            raise SimulatorError(f"the inbox API refused the staff key ({response.status_code}); pass --key")
        if response.status_code != 200:
            raise SimulatorError(f"GET {path} answered {response.status_code}: {_error(response)}")
        return response.json()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.client.request(method, self.config.api.rstrip("/") + path, **kwargs)
        except httpx.HTTPError as exc:
            raise SimulatorError(f"cannot reach the API at {self.config.api}: {exc}") from None


def _error(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", response.text[:200]))
    except ValueError:
        return response.text[:200]


def format_reply(message: dict[str, Any]) -> str:
    """One reply as printed: who sent it and its text (or its template)."""
    sender = message.get("sender") or {}
    who = "staff" if sender.get("kind") == "staff" else "bot"
    text = message.get("text") or f"[template {message.get('template')}]"
    status = message.get("status")
    suffix = f"  ({status}: {message.get('reason')})" if status in ("failed", "not-sent") else ""
    return f"{who}> {text}{suffix}"


def configure(parser: argparse.ArgumentParser) -> None:
    """The command's options."""
    parser.add_argument(
        "--from", dest="sender", required=True, help="the patient's WhatsApp number, e.g. +919844111173"
    )
    parser.add_argument(
        "--api", default="http://127.0.0.1:8000", help="the API's base URL (default %(default)s)"
    )
    parser.add_argument(
        "--key", help="a staff API key for the inbox (default: the first staff key in settings)"
    )
    parser.add_argument("--token", help="Twilio auth token to sign with (default: PRM_TWILIO_AUTH_TOKEN)")
    parser.add_argument(
        "--public-url", help="the URL the API verifies signatures over (default: PRM_PUBLIC_BASE_URL)"
    )
    parser.add_argument("--name", default="WhatsApp Simulator", help="the sender's WhatsApp profile name")
    parser.add_argument(
        "--say",
        action="append",
        default=[],
        metavar="TEXT",
        help="send TEXT, print the replies (repeatable); no prompt",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help="seconds to wait for replies (default %(default)s)",
    )


def _settings() -> Settings:
    try:
        return Settings()  # read from PRM_* and .env
    except ValidationError as exc:
        if "PRM_ENVIRONMENT" not in str(exc):
            raise SimulatorError(f"the settings are invalid: {exc}") from None
        return Settings(environment="development")


def config_from(args: argparse.Namespace, settings: Settings) -> SimConfig:
    """The simulator's configuration: options first, then the settings the API itself reads."""
    try:
        patient = normalize_phone(args.sender, region=settings.default_phone_region)
    except InvalidPhone as exc:
        raise SimulatorError(f"--from {args.sender!r}: {exc}") from None
    token = args.token or (
        settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
    )
    if not token:
        raise SimulatorError("no Twilio auth token: set PRM_TWILIO_AUTH_TOKEN or pass --token")
    key = args.key or _staff_key(settings)
    if not key:
        raise SimulatorError("no plain staff key in PRM_API_KEYS (only hashes?): pass --key")
    return SimConfig(
        api=args.api,
        public_url=args.public_url or settings.public_base_url,
        auth_token=token,
        staff_key=key,
        patient=patient,
        clinic=settings.twilio_whatsapp_from or SANDBOX_WHATSAPP,
        profile_name=args.name,
    )


def _staff_key(settings: Settings) -> str | None:
    # The least privilege that reads the inbox: a staff key, else an admin key.
    for role in (Role.STAFF, Role.ADMIN):
        for api_key in settings.api_keys:
            if api_key.role == role and api_key.key is not None:
                return api_key.key.get_secret_value()
    return None


def converse(sim: WhatsAppSim, lines: Iterable[str], *, timeout: float, out: Callable[[str], None]) -> None:
    """Send each line and print the replies that follow it, one line after the other (--say)."""
    for line in lines:
        out(f"{PROMPT}{line}")
        sim.send(line)
        replies = sim.wait_for_replies(timeout)
        for reply in replies:
            out(format_reply(reply))
        if not replies:
            out(NO_REPLY.format(timeout=timeout))


@dataclass
class Watcher:
    """Prints replies as they appear, while the person types (interactive mode), in its own thread."""

    sim: WhatsAppSim
    timeout: float
    out: Callable[[str], None]
    stop: threading.Event = field(default_factory=threading.Event)
    awaiting_since: float | None = None  # when the last line was sent, until a reply came
    last_error: str | None = None

    def sent(self) -> None:
        """A line went out: a reply is due within the timeout."""
        self.awaiting_since = time.monotonic()

    def poll(self) -> None:
        """Print new replies, or the no-reply hint once the timeout passed."""
        try:
            replies = self.sim.new_replies()
        except SimulatorError as exc:
            if str(exc) != self.last_error:  # once per distinct problem, not every half second
                self.out(f"({exc})")
            self.last_error = str(exc)
            return
        self.last_error = None
        for reply in replies:
            self.out(format_reply(reply))
        if replies:
            self.awaiting_since = None
        elif self.awaiting_since is not None and time.monotonic() - self.awaiting_since > self.timeout:
            self.out(NO_REPLY.format(timeout=self.timeout))
            self.awaiting_since = None

    def run(self) -> None:
        """Poll until stopped."""
        while not self.stop.wait(POLL_SECONDS):
            self.poll()

    def finish(self) -> None:
        """Let a reply still due arrive (input may end right after the last line), then stop."""
        while self.awaiting_since is not None and not self.stop.wait(POLL_SECONDS):
            pass
        self.stop.set()


def chat(sim: WhatsAppSim, lines: Iterable[str], *, timeout: float, out: Callable[[str], None]) -> None:
    """Send each typed line; replies (the bot's, or staff's from the inbox) print as they appear."""
    watcher = Watcher(sim, timeout, out)
    thread = threading.Thread(target=watcher.run, name="whatsapp-sim-replies", daemon=True)
    thread.start()
    try:
        for line in lines:
            text = line.strip()
            if text in ("/quit", "/exit"):
                break
            if text:
                sim.send(text)
                watcher.sent()
    finally:
        watcher.finish()
        thread.join()


def _prompt() -> Iterable[str]:
    while True:
        try:
            yield input(PROMPT)
        except (EOFError, KeyboardInterrupt):
            return


def run(args: argparse.Namespace) -> int:
    """Run the chat (interactive, or the --say lines); 0, or 1 with the reason on stderr."""

    def out(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def out_live(line: str) -> None:
        # Printed while the prompt waits for typing: the line replaces the prompt, which comes back.
        sys.stdout.write(f"\r{line}\n{PROMPT}")
        sys.stdout.flush()

    try:
        config = config_from(args, _settings())
        with httpx.Client(timeout=10) as client:
            sim = WhatsAppSim(config, client)
            earlier = sim.mark_seen()
            if args.say:
                converse(sim, args.say, timeout=args.timeout, out=out)
            else:
                out(
                    f"Chatting as {config.patient} with {config.api} ({earlier} earlier messages). /quit ends."
                )
                chat(sim, _prompt(), timeout=args.timeout, out=out_live)
    except SimulatorError as exc:
        sys.stderr.write(f"whatsapp-sim: {exc}\n")
        return 1
    return 0
