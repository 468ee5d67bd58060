"""Tapes for replay tests, written with the real TapeWriter into a tmp folder, and the
replay of one to a single candidate."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shadowtape import Exchange, Request, Response, TapeFilter, TapeWriter
from shadowtape.replay import replay
from shadowtape.replay.prepare import stream
from shadowtape.replay.prepare.jobs import Job

T0 = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)


def ex(
    path: str = "/api/items/1",
    *,
    method: str = "GET",
    at: float = 0.0,
    headers: Sequence[tuple[str, str]] = (),
    host: str = "api.prod.test",
    status: int = 200,
    body: bytes = b"",
    source: str = "edge",
    query: str = "",
    duration: float = 0.001234,
    response_body: bytes = b'{"recorded":true}',
) -> Exchange:
    """An exchange recorded ``at`` seconds after T0, answered ``duration`` s later."""
    return Exchange(
        request=Request(
            method=method,
            host=host,
            path=path,
            query=query,
            headers=tuple(headers),
            body=body,
            body_size=len(body),
        ),
        response=Response(status=status, body=response_body, body_size=len(response_body)),
        recorded_at=T0 + timedelta(seconds=at),
        source=source,
        duration_us=round(duration * 1e6),
    )


def write_tape(folder: Path, exchanges: Iterable[Exchange]) -> Path:
    with TapeWriter(folder) as writer:
        for exchange in exchanges:
            assert writer.write(exchange)
    return folder


def replay_to(candidate: str, tape: Path, out: Path, **options: Any) -> Path:
    """``replay`` of ``tape`` to ``candidate`` alone, into ``out``; no request is repeated
    unless ``repeat_sample`` is given, so the target sees each one once."""
    return replay(tape, candidate=candidate, out=out, **{"repeat_sample": 0, **options})


def jobs_in_batches(tape: Path, rows: int) -> list[Job]:
    """The tape's jobs, read and prepared ``rows`` at a time, so that they point into
    several tape batches, as in a long replay."""
    saved = stream.PREPARE_ROWS
    stream.PREPARE_ROWS = rows
    try:
        reader = stream.selected([str(tape)], TapeFilter())
        reader.reader.batch_size = rows
        return list(reader)
    finally:
        stream.PREPARE_ROWS = saved
