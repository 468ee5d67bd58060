"""The pytest plugin: replay tapes against an app in-process, one test per endpoint.

    pytest --shadowtape TAPES --shadowtape-app myproject.main:app
    pytest --shadowtape TAPES --shadowtape-candidate http://127.0.0.1:8080

The app (ASGI or WSGI) is driven through httpx's transports: no server, no socket. The
baseline is the recording (``--shadowtape-baseline``, ``--shadowtape-baseline-app`` for
a live one). Each endpoint of the report becomes a test item named by its route
(``GET /api/products/{id}``): it fails with its findings, is skipped with the reason when
nothing of it could be verified, and passes otherwise. The reports are written into the
run folder (``--shadowtape-out``). The ``shadowtape_replay`` fixture gives the run (its
folder and typed ``Report``) to tests of one's own.

The selection, pacing, safety and report flags are ``shadowtape replay``'s, prefixed
(pytest_replay.py). pytest loads this module in every run where shadowtape is
installed: it imports nothing heavy until ``--shadowtape`` is given.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from shadowtape.pytest_replay import ShadowtapeRun, add_options, start_replay

if TYPE_CHECKING:
    from shadowtape.report.model import Endpoint, GateOutcome

__all__ = ["ShadowtapeRun"]

_RUN = pytest.StashKey["ShadowtapeRun"]()
#: The name of the item for gate reasons that belong to no endpoint.
WHOLE_RUN = "whole run"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser.getgroup("shadowtape", "shadowtape: replay recorded traffic"))


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("shadowtape"):
        config.pluginmanager.register(_Replay(config), "shadowtape-replay")


class _Replay:
    """Runs the replay at collection (the endpoints are the items), once."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)  # before -k and -m deselect
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        run = start_replay(config)
        config.stash[_RUN] = run
        tapes = ShadowtapeTapes.from_parent(
            session, name="shadowtape", nodeid="shadowtape", path=session.path
        )
        items.extend(tapes.collect())

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        run = self.config.stash.get(_RUN, None)
        if run is None:
            return
        from shadowtape.report._describe import plural

        totals = run.report.totals
        terminalreporter.write_sep("-", "shadowtape")
        terminalreporter.write_line(
            f"{totals.replayed:,} of {plural(totals.exchanges, 'exchange')} replayed to "
            f"{run.candidate}; {plural(totals.endpoints, 'endpoint')}: {totals.regression} "
            f"regressed, {totals.unverified} not verified, {totals.ok} ok"
        )
        terminalreporter.write_line(f"reports in {run.run_dir}")


@pytest.fixture(scope="session")
def shadowtape_replay(request: pytest.FixtureRequest) -> ShadowtapeRun:
    """The replay of ``--shadowtape``: ``run_dir`` and the typed ``report``."""
    run = request.config.stash.get(_RUN, None)
    if run is None:
        pytest.skip("no replay: give --shadowtape TAPES and --shadowtape-app or -candidate")
    return run


class ShadowtapeTapes(pytest.Collector):
    """The replayed tapes: one item per endpoint of the report."""

    def collect(self) -> Iterator[pytest.Item]:
        run = self.config.stash[_RUN]
        named = set()
        for endpoint in run.report.endpoints:
            named.add(endpoint.endpoint)
            yield EndpointItem.from_parent(self, name=endpoint.endpoint, endpoint=endpoint)
        reasons = [r for r in run.report.gate.reasons if r.split(": ", 1)[0] not in named]
        if reasons:
            yield WholeRunItem.from_parent(self, name=WHOLE_RUN, reasons=reasons)


class EndpointRegression(Exception):
    """The gate fails an endpoint (or the whole run); the message says why."""


class _ShadowtapeItem(pytest.Item):
    """An item of the replay: its failure is the text it raised, and it is placed at
    the tape."""

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, EndpointRegression):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return _where(self.config), 0, f"shadowtape: {self.name}"


class EndpointItem(_ShadowtapeItem):
    def __init__(self, *, endpoint: Endpoint, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.endpoint = endpoint

    def runtest(self) -> None:
        from shadowtape.report.gate import evaluate

        run = self.config.stash[_RUN]
        shared = [run.report.service_finding(i) for i in self.endpoint.service_findings]
        outcome = evaluate(
            [self.endpoint], run.report.gate.fail_on, service=[f for f in shared if f]
        )
        if not outcome.passed:
            raise EndpointRegression(failure_text(self.endpoint, outcome, run))
        if self.endpoint.verdict == "unverified":
            # Reported at the item, not at this line.
            raise pytest.skip.Exception(skip_reason(self.endpoint), _use_item_location=True)


class WholeRunItem(_ShadowtapeItem):
    """The gate's reasons that are about the whole run ("nothing was compared")."""

    def __init__(self, *, reasons: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reasons = reasons

    def runtest(self) -> None:
        raise EndpointRegression("\n".join(self.reasons))


def _where(config: pytest.Config) -> Path:
    """Where the items come from, for pytest's report lines: the (first) tape."""
    return config.invocation_params.dir / config.stash[_RUN].tapes[0]


def failure_text(endpoint: Endpoint, outcome: GateOutcome, run: ShadowtapeRun) -> str:
    """The gate's reasons, then each finding with its location, both values and an
    example exchange id."""
    from shadowtape.report._describe import finding_text

    shown = {e.exchange_id: f"{e.request.method} {e.request.url}" for e in endpoint.examples}
    lines = list(outcome.reasons)
    for finding in endpoint.findings:
        lines.append(f"  {finding_text(finding, limit=200)}")
        if finding.exchange_ids:
            first = finding.exchange_ids[0]
            request = f": {shown[first]}" if first in shown else ""
            more = len(finding.exchange_ids) - 1
            also = f" (and {more} more)" if more > 0 else ""
            lines.append(f"    e.g. exchange {first}{request}{also}")
    lines.append(f"report: {run.run_dir / 'report.html'}")
    return "\n".join(lines)


def skip_reason(endpoint: Endpoint) -> str:
    from shadowtape.pytest_replay import plugin_flags
    from shadowtape.report._describe import plural, unverified_text

    why = []
    for item in endpoint.unverified:
        if item.reason == "skipped_mutating":
            n = item.count or 0
            why.append(f"{plural(n, 'mutating request')} not sent (--allow-mutating sends them)")
        else:
            why.append(unverified_text(item) + (f": {item.detail}" if item.detail else ""))
    because = "; ".join(why) or "nothing was compared"
    return plugin_flags(f"{endpoint.endpoint} not verified: {because}")
