"""The EventBus port on Redis pub/sub: every API replica subscribes, so an event published by any
process (a worker handling a change, another replica) reaches every connected dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.ports.events import Event, EventsUnavailable

# One channel for the clinic's live events (prefixed like every PRM key).
CHANNEL = "prm:events"
# How long a subscription waits for Redis to confirm it.
CONFIRM_TIMEOUT_SECONDS = 5.0


class RedisEventBus:
    """Publishes with PUBLISH; each subscription holds its own pub/sub connection."""

    def __init__(self, redis: Redis, *, listener: Redis | None = None, channel: str = CHANNEL) -> None:
        self._redis = redis
        self._listener = listener or redis
        self._channel = channel

    @classmethod
    def from_url(cls, url: str, *, timeout_seconds: float) -> RedisEventBus:
        """A bus on the Redis at `url`: publishing gives up after `timeout_seconds`; subscriptions wait
        for events as long as it takes, so their connections have no read timeout."""
        return cls(
            Redis.from_url(url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds),
            listener=Redis.from_url(url, socket_timeout=None, socket_connect_timeout=timeout_seconds),
        )

    async def aclose(self) -> None:
        """Close the connection pools."""
        await self._redis.aclose()
        if self._listener is not self._redis:
            await self._listener.aclose()

    async def publish(self, event: Event) -> None:
        """PUBLISH the event's JSON."""
        try:
            await self._redis.publish(self._channel, event.to_json())
        except (RedisError, OSError) as exc:
            raise EventsUnavailable(f"redis: {type(exc).__name__}") from exc

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Event]]:
        """SUBSCRIBE (confirmed before the block starts); UNSUBSCRIBE and close when it ends."""
        pubsub = self._listener.pubsub()
        try:
            try:
                await pubsub.subscribe(self._channel)
                # SUBSCRIBE is only sent above; its confirmation proves later events will arrive.
                confirmation = await pubsub.get_message(timeout=CONFIRM_TIMEOUT_SECONDS)
            except (RedisError, OSError) as exc:
                raise EventsUnavailable(f"redis: {type(exc).__name__}") from exc
            if confirmation is None or confirmation.get("type") != "subscribe":
                raise EventsUnavailable("redis: the subscription was not confirmed")

            async def events() -> AsyncIterator[Event]:
                try:
                    async for message in pubsub.listen():
                        event = Event.from_json(message["data"]) if message.get("type") == "message" else None
                        if event is not None:
                            yield event
                except (RedisError, OSError) as exc:
                    raise EventsUnavailable(f"redis: {type(exc).__name__}") from exc

            yield events()
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
