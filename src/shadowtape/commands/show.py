"""`shadowtape show ID [RUN_DIR | TAPES]`: one exchange, as recorded and as replayed."""

from __future__ import annotations

import argparse
import base64
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from shadowtape.errors import ConfigError

if TYPE_CHECKING:
    from shadowtape.diff.compare import Comparison
    from shadowtape.show import Shown

NAME = "show"
HELP = (
    "show one exchange by id: as recorded, and with a run folder each target's answer and the diff"
)
USAGE = "%(prog)s ID [RUN_DIR | TAPES] [--tapes TAPES ...] [options]"
EXAMPLES = """
  # An example id from a report: the recording, what each target answered, the diff:
  shadowtape show 01JD3Q5K7Y9W2X4V6T8R0P1M3N shadowtape-runs/20261121T100000Z-a1b2c3

  # The recording only, from the tapes (ids from 'shadowtape inspect tapes/ --ids'):
  shadowtape show 01JD3Q5K7Y9W2X4V6T8R0P1M3N tapes/

  # A run whose tapes have moved since, whole bodies, for a script:
  shadowtape show 01JD3Q5K7Y9W2X4V6T8R0P1M3N run/ --tapes /mnt/tapes --max-body 0 --json
"""
#: Characters of a body shown unless --max-body says otherwise.
MAX_BODY = 2000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the exchange id (as in reports and tapes)")
    parser.add_argument(
        "location",
        nargs="?",
        metavar="RUN_DIR | TAPES",
        help="a run folder (its run.json names its tapes) or a tape file or folder",
    )
    parser.add_argument(
        "--tapes",
        nargs="+",
        default=[],
        metavar="TAPES",
        help="the tapes to find the recording in (default: the run folder's own)",
    )
    parser.add_argument(
        "--max-body",
        type=int,
        default=MAX_BODY,
        metavar="CHARS",
        help="show at most this many characters of each body; 0 shows them whole",
    )
    parser.add_argument("--json", action="store_true", help="print it as JSON")


def run(args: argparse.Namespace) -> int:
    from shadowtape.show import show

    if args.max_body < 0:
        raise ConfigError(f"--max-body must be 0 (whole bodies) or more, not {args.max_body}")
    if args.location is None and not args.tapes:
        raise ConfigError("name a run folder or the tapes to look in, after the id")
    shown = show(args.id, args.location, tapes=args.tapes)
    if args.json:
        sys.stdout.buffer.write(
            orjson.dumps(_as_json(shown, args.max_body), option=orjson.OPT_INDENT_2) + b"\n"
        )
    else:
        sys.stdout.write("\n".join(_lines(shown, args.max_body)) + "\n")
    return 0


def _body(body: bytes, size: int | None, truncated: bool, limit: int) -> list[str]:
    if not body:
        return ["(no body)" if not size else f"({size:,} bytes, not kept)"]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return [f"({len(body):,} bytes, binary)"]
    lines = []
    if limit and len(text) > limit:
        lines.append(text[:limit])
        lines.append(f"... {len(text) - limit:,} more characters (--max-body 0 shows all)")
    else:
        lines.append(text)
    if truncated:
        lines.append(f"(kept up to {len(body):,} of {size or 0:,} bytes when recorded)")
    return lines


def _headers(headers: Sequence[tuple[str, str]]) -> list[str]:
    return [f"{name}: {value}" for name, value in headers]


def _indent(lines: list[str]) -> list[str]:
    return ["  " + line for text in lines for line in text.splitlines() or [""]]


def _lines(shown: Shown, limit: int) -> list[str]:
    out = [f"exchange {shown.exchange_id}"]
    ex = shown.recorded
    if ex is not None:
        took = f", took {ex.duration_us / 1000:.1f} ms" if ex.duration_us is not None else ""
        out.append(f"recorded {ex.recorded_at.isoformat()} from source {ex.source!r}{took}")
        if ex.redactions:
            out.append(f"redacted when recorded: {', '.join(ex.redactions)}")
        req = ex.request
        out += ["", "request", *_indent([f"{req.method} {req.url} {req.http_version}"])]
        out += _indent(_headers(req.headers))
        out += _indent(["", *_body(req.body, req.body_size, req.body_truncated, limit)])
        if ex.response is not None:
            res = ex.response
            out += ["", "recorded response", *_indent([f"{res.status} {res.reason}".rstrip()])]
            out += _indent(_headers(res.headers))
            out += _indent(["", *_body(res.body, res.body_size, res.body_truncated, limit)])
        elif ex.error is not None:
            out += ["", f"recorded error: {ex.error.kind}: {ex.error.message}"]
    elif shown.tapes_problem:
        out.append(f"the recording: {shown.tapes_problem}")
    if shown.run is not None:
        run = shown.run
        out += [
            "",
            f"run {run.get('run_id')} in {shown.run_dir}: candidate {run.get('candidate')}, "
            f"baseline {run.get('baseline')}",
        ]
        if not shown.answers and shown.skip_reason is None:
            out.append("this exchange is not in the run (not selected, or not reached)")
        if shown.skip_reason is not None:
            hint = " (--allow-mutating sends it)" if shown.skip_reason == "mutating" else ""
            out.append(f"not sent: {shown.skip_reason}{hint}")
        for answer in shown.answers:
            side = answer.side
            if answer.target == "recorded" and shown.recorded is not None:
                out += ["", "baseline (recorded): the recorded response above"]
                continue
            latency = f" in {answer.latency_ms:.1f} ms" if answer.latency_ms is not None else ""
            head = (
                f"{side.error_kind}: {side.error_message or ''}".rstrip(": ")
                if side.error_kind
                else str(side.status)
            )
            out += ["", f"{answer.role} ({answer.target}): {head}{latency}"]
            if side.error_kind is None:
                out += _indent(_headers(side.headers))
                out += _indent(["", *_body(side.body, len(side.body), side.truncated, limit)])
        if shown.comparison is not None:
            out += ["", _diff_title(shown.comparison)]
            for d in shown.comparison.differences:
                out.append(f"  {d.kind}  {d.location}: {d.baseline!r} -> {d.candidate!r}")
            for note in shown.comparison.notes:
                out.append(f"  not compared: {note.replace('_', ' ')}")
    return out


def _diff_title(comparison: Comparison) -> str:
    if not comparison.differences:
        return "no differences between the baseline and the candidate"
    n = len(comparison.differences)
    return (
        f"{n} difference{'s' if n != 1 else ''}, baseline -> candidate (before the noise "
        "model: the report decides which count)"
    )


def _text(body: bytes, limit: int) -> dict[str, Any]:
    """A body for JSON: text when it is UTF-8, else base64."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(body).decode(), "size": len(body)}
    cut = bool(limit and len(text) > limit)
    return {"text": text[:limit] if cut else text, "size": len(body), "cut": cut}


def _as_json(shown: Shown, limit: int) -> dict[str, Any]:
    ex = shown.recorded
    recorded = None
    if ex is not None:
        req, res = ex.request, ex.response
        recorded = {
            "recorded_at": ex.recorded_at.isoformat(),
            "source": ex.source,
            "duration_ms": None if ex.duration_us is None else ex.duration_us / 1000,
            "redactions": list(ex.redactions),
            "request": {
                "method": req.method,
                "url": req.url,
                "headers": [list(h) for h in req.headers],
                "body": _text(req.body, limit),
            },
            "response": None
            if res is None
            else {
                "status": res.status,
                "reason": res.reason,
                "headers": [list(h) for h in res.headers],
                "body": _text(res.body, limit),
            },
            "error": None if ex.error is None else f"{ex.error.kind}: {ex.error.message}",
        }
    return {
        "id": shown.exchange_id,
        "recorded": recorded,
        "tapes": shown.tapes,
        "tapes_problem": shown.tapes_problem,
        "run_dir": None if shown.run_dir is None else str(shown.run_dir),
        "run_id": None if shown.run is None else shown.run.get("run_id"),
        "skip_reason": shown.skip_reason,
        "answers": {
            a.role: {
                "target": a.target,
                "status": a.side.status,
                "error": a.side.outcome() if a.side.error_kind else None,
                "latency_ms": a.latency_ms,
                "headers": [list(h) for h in a.side.headers],
                "body": _text(a.side.body, limit),
            }
            for a in shown.answers
        },
        "differences": None
        if shown.comparison is None
        else [
            {
                "kind": d.kind,
                "location": d.location,
                "baseline": d.baseline,
                "candidate": d.candidate,
            }
            for d in shown.comparison.differences
        ],
    }
