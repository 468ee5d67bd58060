"""Sending a seed to one target, noting every probe exchange, and stopping a failing target.

A ``TargetSender`` is the one way a probe reaches a target: the URL and headers come from
replay/rules/targets.py (``outgoing``), the bytes go through the replay's client (or an
in-process app's), and each exchange is appended to ``probes/exchanges.jsonl`` in the
run folder with its own id, so a finding's example ids can be looked up. A target that
fails most of its probe requests (refused, reset, timed out, 5xx) is stopped: probing it
further only piles up errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO

import orjson

from shadowtape.ids import new_id
from shadowtape.probe.sample import Seed
from shadowtape.replay.http.client import Reply, Sender
from shadowtape.replay.prepare.jobs import serialize
from shadowtape.replay.rules.targets import Target, outgoing

#: A target is stopped once it has failed more than this fraction ...
FAILING_FRACTION = 0.5
#: ... of at least this many probe requests.
FAILING_MIN = 10
#: Bodies are kept in the exchange log up to this many bytes.
LOGGED_BODY = 64 * 1024


class ExchangeLog:
    """probes/exchanges.jsonl: one JSON object per probe exchange."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "exchanges.jsonl"
        self._file: IO[bytes] = self.path.open("ab")

    def write(self, record: dict[str, object]) -> None:
        self._file.write(orjson.dumps(record) + b"\n")

    def close(self) -> None:
        self._file.close()


def response_json(reply: Reply, cap: int = LOGGED_BODY) -> dict[str, object]:
    """A reply as the report's example answers are written: status, headers, body text."""
    error = None
    if reply.error_kind is not None:
        error = f"{reply.error_kind.value}: {reply.error_message or ''}".rstrip(": ")
    body = reply.body or b""
    return {
        "status": reply.status,
        "headers": [list(h) for h in reply.headers or ()],
        "body": body[:cap].decode("utf-8", errors="replace") if body else None,
        "error": error,
    }


def failed(reply: Reply) -> bool:
    return reply.error_kind is not None or (reply.status is not None and reply.status >= 500)


class TargetSender:
    """One target (candidate or live baseline) for the probes."""

    def __init__(
        self,
        role: str,
        url: str,
        client: Sender,
        log: ExchangeLog,
        *,
        keep_host: bool,
        headers: tuple[tuple[str, str], ...],
        traceparent: bool = True,
    ) -> None:
        self.role = role
        self.target = Target.parse(url, role=role)
        self.client = client
        self.log = log
        self.keep_host = keep_host
        self.headers = headers
        self.traceparent = traceparent
        self.sent = 0
        self.failed = 0
        #: Why the probes stopped sending to this target; None while they go on.
        self.stopped: str | None = None

    async def send(
        self,
        seed: Seed,
        *,
        probe: str,
        endpoint: str,
        stage: str,
        counted: bool = True,
        note: Mapping[str, object] | None = None,
    ) -> tuple[str, Reply]:
        """Send ``seed``; the probe exchange id and the reply (never raises for transport).

        An answer not ``counted`` does not count towards stopping a failing target (one a
        probe made fail on purpose); ``note`` is added to the exchange's log line."""
        request = outgoing(
            self.target,
            method=seed.method,
            path=seed.path,
            query=seed.query,
            headers=seed.headers,
            body=seed.body,
            recorded_host=seed.host,
            keep_host=self.keep_host,
            extra=self.headers,
            traceparent=self.traceparent,
        )
        data = serialize(
            request.method, request.url[len(self.target.origin) :], request.headers, request.body
        )
        reply = await self.client.fetch_wire(self.target.key, data, request.method)
        exchange_id = new_id()
        if counted:
            self.sent += 1
            self.failed += failed(reply)
        self.log.write(
            {
                "exchange_id": exchange_id,
                "probe": probe,
                "endpoint": endpoint,
                "target": self.role,
                "round": stage,
                "seed": seed.exchange_id,
                "method": seed.method,
                "url": seed.url,
                "latency_ms": round_ms(reply.ended - reply.sent),
                "trace_id": reply.trace_id,
                "response": response_json(reply),
                **(note or {}),
            }
        )
        return exchange_id, reply

    def check(self) -> str | None:
        """Stop this target if it fails most probe requests; the reason, once stopped."""
        failing = self.sent >= FAILING_MIN and self.failed > FAILING_FRACTION * self.sent
        if self.stopped is None and failing:
            self.stopped = (
                f"stopped early: the {self.role} failed {self.failed} of its {self.sent} "
                "probe requests (refused, reset, timed out or 5xx)"
            )
        return self.stopped


def round_ms(seconds: float) -> float:
    return round(seconds * 1000, 3)
