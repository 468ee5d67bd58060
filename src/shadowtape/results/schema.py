"""The results' Arrow schema and version: the one copy the writer and the reader share.

docs/results-format.md documents every column and key; change both together. Bump the
minor version for added columns, the major version for anything an older reader would
misread.
"""

from __future__ import annotations

import pyarrow as pa

from shadowtape.tape.schema import SCHEMA as TAPE_SCHEMA
from shadowtape.tape.schema import message_fields

RESULTS_VERSION = "1.3"
RESULTS_MAJOR = 1
#: Parquet key-value metadata of every part, and run.json's key, holding the version.
VERSION_KEY = b"shadowtape.results_version"
TARGETS = ("baseline", "candidate", "secondary", "repeat")

TIMESTAMP = pa.timestamp("us", tz="UTC")


def _tape(*names: str) -> list[tuple[str, pa.DataType]]:
    """Columns a result row copies from its exchange, typed as the tape types them."""
    return [(name, TAPE_SCHEMA.field(name).type) for name in names]


_FIELDS: list[tuple[str, pa.DataType]] = [
    ("run_id", pa.string()),
    ("exchange_id", pa.string()),
    *_tape("recorded_at", "source", "method", "scheme", "host", "path", "query"),
    *_tape("request_headers", "request_body", "redactions"),
    ("skip_reason", pa.string()),
    ("baseline_mode", pa.string()),
    ("scheduled_at", TIMESTAMP),
    ("lag_us", pa.int64()),
]
#: Each target's columns, after its name (candidate_status, ...): its answer, typed as
#: the tape's response columns, then how long it took.
TARGET_FIELDS: list[tuple[str, pa.DataType]] = [
    *_tape("status", "reason"),
    *message_fields(""),
    *_tape("error_kind", "error_message"),
    ("latency_us", pa.int64()),
    ("service_us", pa.int64()),
    # The trace id of the traceparent sent (1.3); null when none was.
    ("trace_id", pa.string()),
]
for _target in TARGETS:
    _FIELDS.extend((f"{_target}_{name}", kind) for name, kind in TARGET_FIELDS)

SCHEMA = pa.schema(_FIELDS, metadata={VERSION_KEY: RESULTS_VERSION.encode()})
COLUMNS = tuple(SCHEMA.names)
#: Columns every results part has, whatever its minor version: without them a Parquet
#: file in results/ is not ours.
REQUIRED = ("exchange_id", "method", "path")
