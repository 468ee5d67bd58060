"""One cause, one finding: a change that shows on most endpoints is reported once.

A framework switch changes ``X-Powered-By``, the CORS headers and the JSON charset on
every response; listed per endpoint it reads as dozens of regressions and drowns the one
that matters. A header or body finding with the same kind, location and values on most
compared endpoints (more than half, and at least ``MIN_ENDPOINTS``) becomes one
``ServiceFinding``; the endpoints it covers name it in ``service_findings`` and drop it
from their own findings, and the gate counts it once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from shadowtape.diff.json import dumps
from shadowtape.report._describe import plural
from shadowtape.report.gate import CATEGORIES
from shadowtape.report.model import Endpoint, Finding, ServiceFinding

MIN_ENDPOINTS = 3
_KINDS = CATEGORIES["headers"] | CATEGORIES["body"]
_SHARE = re.compile(r" in \d[\d,]* of \d[\d,]* requests$")


def _signature(finding: Finding) -> tuple[str, str, bytes, bytes] | None:
    if finding.kind not in _KINDS:
        return None
    try:
        return (
            finding.kind,
            finding.location,
            dumps(finding.baseline),
            dumps(finding.candidate),
        )
    except TypeError:
        return None


def service_wide(
    endpoints: Sequence[Endpoint],
) -> tuple[list[Endpoint], list[ServiceFinding]]:
    """The endpoints with the shared findings taken out, and the shared findings."""
    compared = [e for e in endpoints if e.compared]
    groups: dict[tuple[str, str, bytes, bytes], list[tuple[Endpoint, Finding]]] = {}
    for ep in compared:
        for finding in ep.findings:
            key = _signature(finding)
            if key is not None:
                groups.setdefault(key, []).append((ep, finding))
    shared = [
        members
        for members in groups.values()
        if len(members) >= MIN_ENDPOINTS and len(members) * 2 > len(compared)
    ]
    if not shared:
        return list(endpoints), []
    shared.sort(key=lambda m: (-len(m), m[0][1].kind, m[0][1].location))
    services: list[ServiceFinding] = []
    covered: dict[str, list[tuple[str, Finding]]] = {}
    for n, members in enumerate(shared, start=1):
        id_ = f"service-{n}"
        first = members[0][1]
        count = sum(f.count or 0 for _, f in members)
        requests = sum(e.compared or 0 for e, _ in members)
        names = tuple(sorted(e.endpoint for e, _ in members))
        ids = tuple(i for _, f in members for i in f.exchange_ids)[:5]
        services.append(
            ServiceFinding(
                id=id_,
                kind=first.kind,
                location=first.location,
                message=f"{_SHARE.sub('', first.message)} on {len(members)} of "
                f"{len(compared)} endpoints ({count:,} of {plural(requests, 'request')})",
                baseline=first.baseline,
                candidate=first.candidate,
                count=count,
                rate=round(count / requests, 4) if requests else None,
                endpoints=names,
                exchange_ids=ids,
            )
        )
        for ep, finding in members:
            covered.setdefault(ep.endpoint, []).append((id_, finding))
    out = []
    for ep in endpoints:
        mine = covered.get(ep.endpoint)
        if not mine:
            out.append(ep)
            continue
        gone = {id(f) for _, f in mine}
        out.append(
            replace(
                ep,
                findings=tuple(f for f in ep.findings if id(f) not in gone),
                service_findings=tuple(i for i, _ in mine),
            )
        )
    return out, services
