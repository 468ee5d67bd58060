"""One exchange by id: as recorded, and what each target of a run answered, with the diff.

The report's examples are exchange ids; this is where an id leads. The recording comes
from the tapes (a run folder's run.json names the tapes it replayed), the answers from
the run's result row, and the diff from ``diff.compare`` on the baseline and candidate of
that row: the raw differences of one pair, before the noise model. Read-only.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shadowtape.diff.compare import Comparison, Side, compare
from shadowtape.errors import ConfigError, ShadowtapeError
from shadowtape.exchange import Exchange
from shadowtape.results.reader import read_row, read_run
from shadowtape.tape import TapeFilter, TapeReader

#: The answers a result row can hold, in the order they are shown.
ROLES = ("candidate", "baseline", "secondary", "repeat")


@dataclass(frozen=True, slots=True)
class Answer:
    """What one target answered in a run (or why it did not)."""

    role: str
    side: Side
    latency_ms: float | None
    #: The target's URL, or "recorded" for the recorded baseline.
    target: str


@dataclass(slots=True)
class Shown:
    exchange_id: str
    #: The exchange as recorded, when the tapes could be read and hold it.
    recorded: Exchange | None = None
    #: The tapes looked in, and why they could not be read (a run's tapes moved, say).
    tapes: list[str] = field(default_factory=list)
    tapes_problem: str | None = None
    run_dir: Path | None = None
    run: dict[str, Any] | None = None
    #: Why the run did not send it ("mutating", ...), when it did not.
    skip_reason: str | None = None
    answers: list[Answer] = field(default_factory=list)
    #: Baseline against candidate, when the run has both.
    comparison: Comparison | None = None


def is_run_folder(location: str | os.PathLike[str]) -> bool:
    return (Path(location) / "run.json").is_file()


def show(
    exchange_id: str,
    location: str | os.PathLike[str] | None = None,
    *,
    tapes: Sequence[str] = (),
) -> Shown:
    """Find ``exchange_id`` in ``location`` (a run folder or tapes) and ``tapes``."""
    shown = Shown(exchange_id)
    look_in = list(tapes)
    if location is not None and is_run_folder(location):
        shown.run_dir = Path(location)
        shown.run = read_run(location)
        row = read_row(location, exchange_id)
        if row is not None:
            _answers(shown, row, shown.run)
        if not look_in:
            look_in = [str(t) for t in shown.run.get("tapes") or ()]
            _recorded(shown, look_in, quiet=True)
        else:
            _recorded(shown, look_in, quiet=False)
    else:
        if location is not None:
            look_in.insert(0, os.fspath(location))
        if not look_in:
            raise ConfigError("name the tapes or the run folder to look in")
        _recorded(shown, look_in, quiet=False)
    if shown.recorded is None and shown.run is not None and not shown.answers:
        raise ConfigError(
            f"no exchange {exchange_id} in the run folder {location} "
            f"(nor in its tapes: {', '.join(look_in) or 'none named'})"
        )
    if shown.recorded is None and shown.run is None:
        raise ConfigError(f"no exchange {exchange_id} in {', '.join(look_in)}")
    return shown


def _recorded(shown: Shown, tapes: list[str], *, quiet: bool) -> None:
    """The recording, from the tapes; a run's own tapes that cannot be read from here
    (relative to where it ran, moved, deleted) are a note, not an error."""
    shown.tapes = tapes
    try:
        reader = TapeReader(tapes, filter=TapeFilter(ids=(shown.exchange_id,), limit=1))
        shown.recorded = next(iter(reader.exchanges()), None)
    except ShadowtapeError as exc:
        if not quiet:
            raise
        shown.tapes_problem = f"{exc}; give --tapes to show the recording"
        return
    if shown.recorded is None:
        shown.tapes_problem = f"not in {', '.join(tapes) or 'any tape'}"


def _side(row: dict[str, Any], role: str) -> Side:
    return Side(
        status=row.get(f"{role}_status"),
        headers=row.get(f"{role}_headers") or (),
        body=row.get(f"{role}_body") or b"",
        truncated=bool(row.get(f"{role}_body_truncated")),
        error_kind=row.get(f"{role}_error_kind"),
        error_message=row.get(f"{role}_error_message"),
    )


def _answers(shown: Shown, row: dict[str, Any], run: dict[str, Any]) -> None:
    shown.skip_reason = row.get("skip_reason")
    targets = {
        "candidate": str(run.get("candidate")),
        "baseline": str(run.get("baseline") or "recorded"),
        "secondary": str(run.get("secondary")),
        "repeat": f"{run.get('candidate')} (again)",
    }
    for role in ROLES:
        side = _side(row, role)
        if not side.present:
            continue
        latency = row.get(f"{role}_latency_us")
        shown.answers.append(
            Answer(role, side, None if latency is None else latency / 1000, targets[role])
        )
    sides = {a.role: a.side for a in shown.answers}
    if "baseline" in sides and "candidate" in sides:
        shown.comparison = compare(sides["baseline"], sides["candidate"])
