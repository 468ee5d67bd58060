"""The real-world capture corpus (../shared/corpus from the repository root), read in
place and never copied into the repository; tests that need it skip when it is absent."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

# mitmproxy's flowfilter (imported by mitmproxy.io) still calls pyparsing's deprecated
# camelCase API, which filterwarnings=error turns into an import error. Import it once
# here with that one warning silenced; the lasting fix is a filterwarnings entry in
# pyproject.toml (asked of the lead).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import mitmproxy.io  # noqa: F401

CORPUS = (Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus").resolve()

#: Entries per HAR file, as counted in the files (SOURCES.md lists the same numbers).
HAR_COUNTS = {
    "haralyzer__cnn.har": 145,
    "haralyzer__humanssuck.net.har": 4,
    "harviewer__examples_softwareishard.com.har": 40,
    "harviewer__hars_post-data-no-page.har": 1,
    "harviewer__hars_www-cnn-com.har": 22,
    "harviewer__issue-61_chrome51.har": 27,
    "harviewer__issue-61_firefox47.har": 23,
    "harviewer__issue-61_ie11.fiddler.har": 11,
    "harviewer__issue-78_json.har": 1,
    "mitmproxy__flows_diff_data.har": 5,
    "mitmproxy__flows_event_stream.har": 2,
    "mitmproxy__flows_successful_log.har": 2,
    "mitmproxy__flows_websocket.har": 3,
    "mitmproxy__har_files_charles.har": 1,
    "mitmproxy__har_files_chrome.har": 3,
    "mitmproxy__har_files_firefox.har": 14,
    "mitmproxy__har_files_head-content-length.har": 1,
    "mitmproxy__har_files_insomnia.har": 1,
    "mitmproxy__har_files_postdata.har": 1,
    "mitmproxy__har_files_safari.har": 19,
}

#: Flows per mitmproxy dump: (imported, skipped with reason). diff_data holds 2 TCP flows;
#: dumpfile-7-websocket holds a placeholder flow (host "unknown", no timestamp) that old
#: WebSocket flows became when mitmproxy converted them.
MITM_COUNTS = {
    "dumpfile-011.mitm": (1, {}),
    "dumpfile-018.mitm": (1, {}),
    "dumpfile-019.mitm": (1, {}),
    "dumpfile-10.mitm": (1, {}),
    "dumpfile-19.mitm": (1, {}),
    "dumpfile-7-websocket.mitm": (
        5,
        {"no request (a placeholder flow from an old dump format)": 1},
    ),
    "dumpfile-7.mitm": (2, {}),
    "flows_compressed.zhar": (2, {}),
    "flows_corrupted_gzip_body.mitm": (1, {}),
    "flows_diff_data.mitm": (5, {"not HTTP (tcp flow)": 2}),
    "flows_error_log.mitm": (2, {}),
    "flows_event_stream.mitm": (2, {}),
    "flows_incomplete_log.mitm": (4, {}),
    "flows_successful_log.mitm": (2, {}),
    "flows_websocket.mitm": (3, {}),
}

GOR_FILE = "gor/datadog_ecommerce_requests_0.gor"


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(
            f"the real-world capture corpus is not at {CORPUS} (../shared/corpus from the "
            "repository root, see its SOURCES.md); these tests read it in place"
        )
    return CORPUS


@pytest.fixture(autouse=True)
def _sanitize_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed key, as a deployment has: same input, same pseudonym, no warning."""
    monkeypatch.setenv("SHADOWTAPE_SANITIZE_KEY", "importer-tests-key")
