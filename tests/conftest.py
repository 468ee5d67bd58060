"""Fixtures every test gets: no proxy variables, so nothing leaves loopback by accident.
And the ``timing`` marker's reruns."""

from __future__ import annotations

import pytest

#: Further runs of a failed ``timing`` test before its failure stands.
TIMING_RERUNS = 2

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test marked ``timing`` measures elapsed time on a shared machine whose host takes
    CPU away in bursts: pytest-rerunfailures runs it again, fresh, up to TIMING_RERUNS
    times, and the summary counts the reruns. Code that cannot keep time fails every run."""
    for item in items:
        if item.get_closest_marker("timing") is not None:
            item.add_marker(pytest.mark.flaky(reruns=TIMING_RERUNS))
