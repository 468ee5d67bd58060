"""Read report.json (or any dict of its shape) back into the typed ``Report``.

Reading is tolerant, as a reader of a versioned format must be: fields a report does not
have (an older or partial report, a hand-written one in a test) get their empty value,
fields this version does not know are ignored. Only ``incomplete`` keeps its absence
(None): older reports said a run was interrupted in ``runs`` alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import orjson

from shadowtape.report.model import (
    Endpoint,
    Example,
    ExampleRequest,
    ExampleResponse,
    Finding,
    GateOutcome,
    Histogram,
    Latency,
    Ratio,
    Report,
    ReportedLatency,
    ReportedNoise,
    ReportedTolerance,
    RunInfo,
    Settings,
    Totals,
    Unverified,
)


def read_report(path: Path) -> Report:
    """A report.json file as a ``Report``."""
    return load_report(orjson.loads(path.read_bytes()))


def load_report(data: object) -> Report:
    """A parsed report.json (a dict) as a ``Report``."""
    d = _map(data)
    incomplete = d.get("incomplete")
    settings = d.get("settings")
    return Report(
        report_version=_s(d.get("report_version")),
        generated_at=_s(d.get("generated_at")),
        runs=tuple(RunInfo(r) for r in _list(d.get("runs")) if isinstance(r, Mapping)),
        incomplete=None if "incomplete" not in d else tuple(_strs(incomplete)),
        totals=_totals(_map(d.get("totals"))),
        gate=_gate(_map(d.get("gate"))),
        skipped={str(k): _int(v) for k, v in _map(d.get("skipped")).items()},
        settings=_settings(settings) if isinstance(settings, Mapping) and settings else None,
        endpoints=tuple(_endpoint(e) for e in _list(d.get("endpoints")) if isinstance(e, Mapping)),
    )


def _map(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def _s(value: object) -> str:
    return "" if value is None else str(value)


def _strs(value: object) -> list[str]:
    return [str(x) for x in _list(value)]


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _opt_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _num(value: object) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _totals(d: Mapping[str, object]) -> Totals:
    return Totals(
        exchanges=_int(d.get("exchanges")),
        replayed=_int(d.get("replayed")),
        skipped=_int(d.get("skipped")),
        endpoints=_int(d.get("endpoints")),
        regression=_int(d.get("regression")),
        ok=_int(d.get("ok")),
        unverified=_int(d.get("unverified")),
        findings=_int(d.get("findings")),
    )


def _gate(d: Mapping[str, object]) -> GateOutcome:
    return GateOutcome(
        passed=bool(d.get("passed", False)),
        fail_on=tuple(_strs(d.get("fail_on"))),
        reasons=tuple(_strs(d.get("reasons"))),
    )


def _settings(d: Mapping[str, object]) -> Settings:
    tol, noise, lat = _map(d.get("tolerance")), _map(d.get("noise")), _map(d.get("latency"))
    return Settings(
        ignored_headers=tuple(_strs(d.get("ignored_headers"))),
        ignored_header_parts=tuple(_strs(d.get("ignored_header_parts"))),
        compared_headers=tuple(_strs(d.get("compared_headers"))),
        tolerance=ReportedTolerance(
            absolute=_num(tol.get("absolute")) or 0.0, relative=_num(tol.get("relative")) or 0.0
        ),
        noise=ReportedNoise(
            relative=_num(noise.get("relative")) or 0.0,
            absolute=_num(noise.get("absolute")) or 0.0,
            alpha=_num(noise.get("alpha")) or 0.0,
            min_pairs=_int(noise.get("min_pairs")),
        ),
        latency=ReportedLatency(
            ratio=_num(lat.get("ratio")) or 0.0,
            min_ms=_num(lat.get("min_ms")) or 0.0,
            confidence=_num(lat.get("confidence")),
            min_pairs=_int(lat.get("min_pairs")),
        ),
    )


def _endpoint(d: Mapping[str, object]) -> Endpoint:
    latency = d.get("latency")
    return Endpoint(
        endpoint=_s(d.get("endpoint")),
        method=_s(d.get("method")),
        route=_s(d.get("route")),
        requests=_int(d.get("requests")),
        replayed=_opt_int(d.get("replayed")),
        compared=_opt_int(d.get("compared")),
        verdict=_s(d.get("verdict")),
        checked=tuple(_strs(d.get("checked"))),
        findings=tuple(_finding(f) for f in _list(d.get("findings")) if isinstance(f, Mapping)),
        unverified=tuple(
            _unverified(u) for u in _list(d.get("unverified")) if isinstance(u, Mapping)
        ),
        latency=_latency(latency) if isinstance(latency, Mapping) else None,
        examples=tuple(load_example(x) for x in _list(d.get("examples")) if isinstance(x, Mapping)),
    )


def _finding(d: Mapping[str, object]) -> Finding:
    return Finding(
        kind=_s(d.get("kind")),
        location=_s(d.get("location")),
        message=_s(d.get("message")),
        baseline=d.get("baseline"),
        candidate=d.get("candidate"),
        count=_opt_int(d.get("count")),
        rate=_num(d.get("rate")),
        exchange_ids=tuple(_strs(d.get("exchange_ids"))),
    )


def _unverified(d: Mapping[str, object]) -> Unverified:
    kind = d.get("kind")
    return Unverified(
        reason=_s(d.get("reason")),
        location=_s(d.get("location")),
        count=_opt_int(d.get("count")),
        rate=_num(d.get("rate")),
        detail=_s(d.get("detail")),
        kind=None if kind is None else str(kind),
        pairs=_opt_int(d.get("pairs")),
    )


def _percentiles(value: object) -> dict[str, float | None]:
    return {str(k): _num(v) for k, v in _map(value).items()}


def _latency(d: Mapping[str, object]) -> Latency:
    ratio, secondary, histogram = d.get("ratio"), d.get("secondary"), d.get("histogram")
    return Latency(
        comparable=bool(d.get("comparable")),
        pairs=_opt_int(d.get("pairs")),
        baseline=_percentiles(d.get("baseline")),
        candidate=_percentiles(d.get("candidate")),
        ratio={
            str(k): Ratio(
                value=_num(r.get("value")), low=_num(r.get("low")), high=_num(r.get("high"))
            )
            for k, r in ratio.items()
            if isinstance(r, Mapping)
        }
        if isinstance(ratio, Mapping)
        else None,
        secondary=_percentiles(secondary) if isinstance(secondary, Mapping) else None,
        histogram=_histogram(histogram) if isinstance(histogram, Mapping) and histogram else None,
    )


def _histogram(d: Mapping[str, object]) -> Histogram:
    return Histogram(
        edges_ms=tuple(x for x in (_num(v) for v in _list(d.get("edges_ms"))) if x is not None),
        baseline=tuple(_int(v) for v in _list(d.get("baseline"))),
        candidate=tuple(_int(v) for v in _list(d.get("candidate"))),
    )


def _headers(value: object) -> tuple[tuple[str, str], ...]:
    out = []
    for pair in _list(value):
        items = _list(pair)
        if len(items) == 2:
            out.append((_s(items[0]), _s(items[1])))
    return tuple(out)


def _body(value: object) -> str | None:
    return None if value is None else str(value)


def load_example(d: Mapping[str, object]) -> Example:
    request = _map(d.get("request"))
    return Example(
        exchange_id=_s(d.get("exchange_id")),
        request=ExampleRequest(
            method=_s(request.get("method")),
            url=_s(request.get("url")),
            headers=_headers(request.get("headers")),
            body=_body(request.get("body")),
        ),
        baseline=_response(_map(d.get("baseline"))),
        candidate=_response(_map(d.get("candidate"))),
    )


def _response(d: Mapping[str, object]) -> ExampleResponse:
    error = d.get("error")
    return ExampleResponse(
        status=_opt_int(d.get("status")),
        headers=_headers(d.get("headers")),
        body=_body(d.get("body")),
        error=None if error is None else str(error),
    )
