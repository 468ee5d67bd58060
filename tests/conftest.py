"""Fixtures every test gets: no proxy variables, so nothing leaves loopback by accident.
And the ``timing`` marker's reruns."""

from __future__ import annotations

import pytest
from _pytest.runner import runtestprotocol

#: Runs of a ``timing`` test before its failure stands.
TIMING_ATTEMPTS = 3

_PROXY_VARS = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
)


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """A test marked ``timing`` measures elapsed time on a shared machine whose host takes
    CPU away in bursts: it runs again, fresh, up to TIMING_ATTEMPTS times, and only its
    last run is reported. Code that cannot keep time fails every run."""
    if item.get_closest_marker("timing") is None:
        return None
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for _ in range(TIMING_ATTEMPTS):
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        if not any(report.failed for report in reports):
            break
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True
