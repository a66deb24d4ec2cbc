"""ChannelMessenger: one Messenger that hands each message to the adapter configured for its channel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.ports.messaging import (
    Choice,
    ChoiceList,
    MessageChannel,
    MessageRejected,
    Messenger,
    Recipient,
    SendResult,
    TemplateMessage,
)


class ChannelMessenger:
    """Dispatches on `Recipient.channel`; a channel without an adapter is refused, never dropped."""

    def __init__(self, routes: Mapping[MessageChannel, Messenger]) -> None:
        self.routes = dict(routes)

    async def send_text(
        self, to: Recipient, body: str, *, reference: str, subject: str | None = None
    ) -> SendResult:
        """Free text through the channel's adapter."""
        return await self._route(to).send_text(to, body, reference=reference, subject=subject)

    async def send_template(self, to: Recipient, template: TemplateMessage, *, reference: str) -> SendResult:
        """A template through the channel's adapter."""
        return await self._route(to).send_template(to, template, reference=reference)

    async def send_interactive(
        self, to: Recipient, body: str, choices: Sequence[Choice], *, reference: str
    ) -> SendResult:
        """An interactive message through the channel's adapter."""
        return await self._route(to).send_interactive(to, body, choices, reference=reference)

    async def send_list(self, to: Recipient, text: str, options: ChoiceList, *, reference: str) -> SendResult:
        """A list message through the channel's adapter."""
        return await self._route(to).send_list(to, text, options, reference=reference)

    async def aclose(self) -> None:
        """Close each adapter once (one adapter may serve several channels)."""
        closed: set[int] = set()
        for messenger in self.routes.values():
            close = getattr(messenger, "aclose", None)
            if callable(close) and id(messenger) not in closed:
                closed.add(id(messenger))
                await close()

    def _route(self, to: Recipient) -> Messenger:
        messenger = self.routes.get(to.channel)
        if messenger is None:
            raise MessageRejected(f"no messenger is configured for {to.channel.value}")
        return messenger
