"""The recorded dependency calls a mock answers from, read once before the proxy starts.

``load`` reads every ``deps:*`` source under the tape location with ``TapeReader`` (in
recorded order per source) and keeps what matching and answering need; ``dump`` writes
them as one JSON file the proxy's addon reads (``read``), so pyarrow stays out of the
proxy's process and a tape problem is one line before anything starts.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass

from shadowtape.errors import ConfigError

#: The tape source prefix of recorded dependency calls.
SOURCE_PREFIX = "deps:"


@dataclass(frozen=True, slots=True)
class Recorded:
    """One recorded dependency call: the request it matches and the answer it gives."""

    id: str
    method: str
    host: str
    port: int
    path: str
    query: str
    body: bytes
    #: None for a call that failed (no response): it is answered by closing the connection.
    status: int | None
    reason: str
    headers: tuple[tuple[str, str], ...]
    response_body: bytes


def load(tapes: str) -> list[Recorded]:
    """Every recorded call of the ``deps:*`` sources under ``tapes``; ConfigError if none."""
    from shadowtape.errors import TapeError
    from shadowtape.tape.reader import TapeReader

    try:
        reader = TapeReader(tapes)
        sources = [s for s in reader.sources() if s and s.startswith(SOURCE_PREFIX)]
        calls = [
            _recorded(exchange)
            for source in sources
            for exchange in reader.for_source(source).exchanges()
        ]
    except TapeError as exc:
        raise ConfigError(f"--tapes {tapes}: {exc}") from None
    if not calls:
        raise ConfigError(
            f"--tapes {tapes}: no recorded dependency calls (no source=deps:* tapes); "
            "record them first with --mode record"
        )
    return calls


def _recorded(exchange: object) -> Recorded:
    from shadowtape.exchange import Exchange

    assert isinstance(exchange, Exchange)
    rq, rs = exchange.request, exchange.response
    return Recorded(
        id=exchange.id,
        method=rq.method.upper(),
        host=rq.host.lower(),
        port=rq.port,
        path=rq.path,
        query=rq.query,
        body=rq.body,
        status=rs.status if rs is not None else None,
        reason=rs.reason if rs is not None else "",
        headers=tuple(rs.headers) if rs is not None else (),
        response_body=rs.body if rs is not None else b"",
    )


def dump(calls: list[Recorded], path: str) -> None:
    rows = []
    for call in calls:
        row = asdict(call)
        row["body"] = base64.b64encode(call.body).decode("ascii")
        row["response_body"] = base64.b64encode(call.response_body).decode("ascii")
        rows.append(row)
    with open(path, "w") as handle:
        json.dump(rows, handle)


def read(path: str) -> list[Recorded]:
    with open(path) as handle:
        rows = json.load(handle)
    return [
        Recorded(
            **(
                row
                | {
                    "body": base64.b64decode(row["body"]),
                    "response_body": base64.b64decode(row["response_body"]),
                    "headers": tuple(tuple(pair) for pair in row["headers"]),
                }
            )
        )
        for row in rows
    ]
