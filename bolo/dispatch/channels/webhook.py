"""Signed webhooks (Standard Webhooks 1.0) over httpx."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx

from bolo import clock
from bolo.dispatch.channels.base import ChannelKind, Message, SendResult
from bolo.dispatch.policy import Outcome, classify_status, parse_retry_after
from bolo.dispatch.signing import sign_headers


class WebhookChannel:
    """POSTs the thin JSON payload, signed with the post's key(s), through one pooled client."""

    kind = ChannelKind.WEBHOOK

    def __init__(
        self,
        *,
        timeout_s: float = 10.0,
        max_connections: int = 200,
        transport: httpx.AsyncBaseTransport | None = None,
        connections_per_client: int = 4,
    ) -> None:
        # httpcore's pool does work proportional to its connection count on every request, so
        # many small pools (used in turn) scale far better than one large pool.
        shards = max(1, max_connections // max(1, connections_per_client))
        per = max(1, max_connections // shards)
        limits = httpx.Limits(max_connections=per, max_keepalive_connections=per)
        self.clients = [
            httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), limits=limits, transport=transport)
            for _ in range(shards)
        ]
        self._turn = 0

    def _client(self) -> httpx.AsyncClient:
        self._turn = (self._turn + 1) % len(self.clients)
        return self.clients[self._turn]

    async def send(self, message: Message) -> SendResult:
        """One signed POST; timeouts and connection errors come back as RETRY."""
        headers = sign_headers(
            msg_id=message.msg_id,
            timestamp=int(clock.now().timestamp()),
            body=message.body,
            keys=message.keys,
        )
        headers["content-type"] = "application/json"
        started = time.perf_counter()
        try:
            response = await self._client().post(
                message.url, content=message.body, headers=headers
            )
        except httpx.TimeoutException as exc:
            return SendResult(
                Outcome.RETRY, error=f"timeout: {exc!r}", duration_s=time.perf_counter() - started
            )
        except httpx.TransportError as exc:
            return SendResult(
                Outcome.RETRY, error=f"transport: {exc!r}", duration_s=time.perf_counter() - started
            )
        outcome = classify_status(response.status_code)
        retry_after = parse_retry_after(response.headers.get("retry-after"), now=clock.now())
        if retry_after is not None and outcome is Outcome.RETRY:
            outcome = Outcome.SLOW_DOWN
        return SendResult(
            outcome,
            status_code=response.status_code,
            error=None if outcome is Outcome.DELIVERED else f"HTTP {response.status_code}",
            retry_after_s=retry_after,
            duration_s=time.perf_counter() - started,
        )

    def destination(self, message: Message) -> str:
        """Rate-limit key: scheme://host:port of the endpoint."""
        parts = urlsplit(message.url)
        return f"{parts.scheme}://{parts.netloc}"

    async def aclose(self) -> None:
        """Close the pooled connections."""
        for client in self.clients:
            await client.aclose()
