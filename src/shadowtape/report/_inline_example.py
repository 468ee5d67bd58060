"""One example exchange beside each finding in report.html: the request line, each
side's status, the differing value, and the ``shadowtape show`` command that prints the
whole exchange (the recording, both answers, the diff) from the run folder.

The example is the finding's first exchange id; when the report kept that exchange in
full (``Endpoint.examples``), its request line and statuses are shown, else the id and
the values alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from shadowtape.report import _describe as d
from shadowtape.report.model import Example, ExampleResponse, Finding

#: Columns of the findings table the inline example spans.
COLUMNS = 8


def show_command(exchange_id: str) -> str:
    """The command that shows one exchange in full; RUN_DIR is the run folder (where
    report.html is written unless --out said otherwise)."""
    return f"shadowtape show {exchange_id} RUN_DIR"


def inline_example(finding: Finding, examples: Mapping[str, Example]) -> str:
    """A table row under the finding's row; empty when the finding names no exchange."""
    if not finding.exchange_ids:
        return ""
    first = next((x for x in finding.exchange_ids if x in examples), finding.exchange_ids[0])
    example = examples.get(first)
    bits = []
    if example is not None:
        request = example.request
        bits.append(f'<code class="req">{_e(request.method)} {_e(request.url)}</code>')
        bits.append(
            f'<span class="statuses">baseline {_e(_status(example.baseline))} · '
            f"candidate {_e(_status(example.candidate))}</span>"
        )
    else:
        bits.append(f"exchange <code>{_e(first)}</code>")
    where = d.finding_location(finding)
    value = (
        f'<span class="value">{_e(where + ": " if where else "")}'
        f"<code>{_e(d.finding_value(finding, finding.baseline, 120))}</code> → "
        f"<code>{_e(d.finding_value(finding, finding.candidate, 120))}</code></span>"
    )
    bits.append(value)
    command = f'<code class="show-cmd">{_e(show_command(first))}</code>'
    return (
        f'<tr class="inline-example" data-exchange="{_e(first)}"><td colspan="{COLUMNS}">'
        f"e.g. {' · '.join(bits)} · see all of it: {command}</td></tr>"
    )


def _status(side: ExampleResponse) -> str:
    if side.error:
        return side.error
    return "no response" if side.status is None else str(side.status)


def _e(value: object) -> str:
    return escape(str(value), quote=True)
