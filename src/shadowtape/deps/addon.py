"""The deps proxy's addon: faults first, then a mock's answer, and a calls-log line per call.

It runs in mitmdump's regular (forward) proxy mode beside the ``Recorder``
(``DepsRecorder``, which records what a dependency really answered: never a fault or a
mock). Per call, in the ``request`` hook: the first matching fault rule (``--fault``
rules, then those of the ``--faults-file``, which ``control`` re-reads when it changes)
is applied (a delay goes on to the rest; a status, a reset or a timeout ends the call
there); in mock mode the call is answered from the recorded calls (``match``; its body
decoded within ``coding.LIMIT``, else not compared) or with a 502 carrying
``X-Shadowtape-Unmatched: 1``, and the real host is never contacted. Every call ends as
one line in the calls log (``calls``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any, Optional

from mitmproxy import ctx, exceptions, http

from shadowtape import coding
from shadowtape.deps import calls, control, faults
from shadowtape.deps.match import Matcher
from shadowtape.deps.mocks import Recorded, read
from shadowtape.deps.modes import DepsMode
from shadowtape.errors import ConfigError
from shadowtape.record.addon import Recorder

log = logging.getLogger("shadowtape.deps")

_FAULT = "shadowtape_fault"
_MATCH = "shadowtape_match"
_RECORDED_ID = "shadowtape_recorded_id"
_LOGGED = "shadowtape_logged"
_STOPPED = "shadowtape_stopped"
_DELAYED = "shadowtape_delayed"
UNMATCHED_HEADER = "X-Shadowtape-Unmatched"
FAULT_HEADER = "X-Shadowtape-Fault"
#: Response headers a mock does not copy from the recording: the body is stored decoded,
#: and the length and framing are the mock's own.
_NOT_COPIED = {"content-encoding", "content-length", "transfer-encoding", "connection"}


def _bad(message: str) -> exceptions.OptionsError:
    return exceptions.OptionsError(message)  # type: ignore[no-untyped-call]


class DepsProxy:
    """Faults, mocks and the calls log for a service's outbound calls."""

    def __init__(self) -> None:
        self.mode = DepsMode.PASSTHROUGH
        self.rules: tuple[faults.FaultRule, ...] = ()
        self.matcher: Matcher | None = None
        self.faults_file: control.FaultsFile | None = None
        self.log: calls.CallsLog | None = None
        #: Calls a timeout or delay fault holds: logged at stop if still held then.
        self._held: set[http.HTTPFlow] = set()

    def load(self, loader: Any) -> None:
        loader.add_option(
            "shadowtape_deps_mode",
            str,
            "passthrough",
            "record: forward and record each call; mock: answer from recorded calls and "
            "never contact the real host; passthrough: forward and count.",
            choices=[m.value for m in DepsMode],
        )
        loader.add_option(
            "shadowtape_deps_fault",
            Sequence[str],
            [],
            "Fault rules (host=NAME[:PORT],status=CODE|timeout|reset|delay=DURATION"
            "[,rate=SHARE][,paths=GLOB]); repeat --set to give several.",
        )
        loader.add_option(
            "shadowtape_deps_faults_file",
            Optional[str],  # noqa: UP045
            None,
            "A JSON list of fault rules, re-read whenever it changes; its rules come after "
            "shadowtape_deps_fault's. Missing: none; bad: the previous ones are kept.",
        )
        loader.add_option(
            "shadowtape_deps_mocks",
            Optional[str],  # noqa: UP045
            None,
            "The recorded calls a mock answers from (a JSON file shadowtape deps writes).",
        )
        loader.add_option(
            "shadowtape_deps_calls",
            Optional[str],  # noqa: UP045
            None,
            "Append one JSON line per call to this file (the calls log).",
        )
        loader.add_option(
            "shadowtape_deps_name", str, "deps", "The name this proxy's calls are logged under."
        )

    def configure(self, updated: set[str]) -> None:
        opts = ctx.options
        if "shadowtape_deps_mode" in updated:
            self.mode = DepsMode(opts.shadowtape_deps_mode)
        if "shadowtape_deps_fault" in updated:
            try:
                self.rules = faults.parse_all(list(opts.shadowtape_deps_fault))
            except ConfigError as exc:
                raise _bad(str(exc)) from None
        if "shadowtape_deps_faults_file" in updated:
            path = opts.shadowtape_deps_faults_file
            self.faults_file = control.FaultsFile(path) if path else None
        if updated & {"shadowtape_deps_mode", "shadowtape_deps_mocks"}:
            self.matcher = None
            if self.mode is DepsMode.MOCK:
                if not opts.shadowtape_deps_mocks:
                    raise _bad("shadowtape_deps_mocks: mock mode needs the recorded calls")
                self.matcher = Matcher(read(opts.shadowtape_deps_mocks))
        if "shadowtape_deps_calls" in updated:
            if self.log is not None:
                self.log.close()
            path = opts.shadowtape_deps_calls
            self.log = calls.CallsLog(path) if path else None

    def done(self) -> None:
        for flow in list(self._held):
            flow.metadata[_STOPPED] = True
            self._log(flow)
        if self.log is not None:
            self.log.close()
            self.log = None

    async def request(self, flow: http.HTTPFlow) -> None:
        rq = flow.request
        rules = self.rules
        if self.faults_file is not None:
            rules += self.faults_file.rules()
        rule = faults.choose(rules, rq.host, rq.port, rq.path.split("?", 1)[0])
        if rule is not None:
            flow.metadata[_FAULT] = rule.text
            if rule.kind is faults.FaultKind.STATUS:
                flow.response = http.Response.make(
                    rule.status,
                    f"shadowtape deps: fault {rule.text}\n".encode(),
                    {"Content-Type": "text/plain", FAULT_HEADER: rule.text},
                )
                return
            if rule.kind is not faults.FaultKind.RESET:
                self._held.add(flow)
                try:
                    await asyncio.sleep(rule.seconds)
                finally:
                    self._held.discard(flow)
            if rule.kind is not faults.FaultKind.DELAY:
                self._kill(flow)
                return
            flow.metadata[_DELAYED] = True
            if not flow.live:
                return
        if self.matcher is not None:
            self._mock(flow, self.matcher)

    def _mock(self, flow: http.HTTPFlow, matcher: Matcher) -> None:
        rq = flow.request
        path, _, query = rq.path.partition("?")
        found, quality = matcher.answer(rq.method, rq.host, rq.port, path, query, _body(rq))
        flow.metadata[_MATCH] = quality.value
        if found is None:
            flow.response = http.Response.make(
                502,
                f"shadowtape deps: no recorded call matches {rq.method} "
                f"{rq.host}:{rq.port}{rq.path}\n".encode(),
                {"Content-Type": "text/plain", UNMATCHED_HEADER: "1"},
            )
            return
        flow.metadata[_RECORDED_ID] = found.id
        if found.status is None:
            self._kill(flow)
            return
        flow.response = _answer(found)

    def _kill(self, flow: http.HTTPFlow) -> None:
        if flow.killable:
            flow.kill()  # type: ignore[no-untyped-call]
        self._log(flow)

    def response(self, flow: http.HTTPFlow) -> None:
        self._log(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        self._log(flow)

    def _log(self, flow: http.HTTPFlow) -> None:
        if self.log is None or flow.metadata.get(_LOGGED):
            return
        flow.metadata[_LOGGED] = True
        rq, rs = flow.request, flow.response
        end = rs.timestamp_end if rs is not None and rs.timestamp_end else time.time()
        fault = flow.metadata.get(_FAULT)
        # A delayed call goes on to be mocked or forwarded, and says which.
        ended_by_fault = fault and not flow.metadata.get(_DELAYED)
        match = flow.metadata.get(_MATCH) or (calls.FAULT if ended_by_fault else calls.FORWARDED)
        path, _, query = rq.path.partition("?")
        self.log.write(
            calls.Call(
                time=calls.stamp(rq.timestamp_start),
                name=ctx.options.shadowtape_deps_name,
                mode=self.mode.value,
                method=rq.method,
                scheme=rq.scheme,
                host=rq.host,
                port=rq.port,
                path=path,
                query=query,
                status=rs.status_code if rs is not None else None,
                error=_error(flow),
                traceparent=rq.headers.get("traceparent"),
                match=str(match),
                fault=fault,
                recorded_id=flow.metadata.get(_RECORDED_ID),
                duration_ms=round((end - rq.timestamp_start) * 1000, 3),
            )
        )


def _body(rq: http.Request) -> bytes | None:
    """The call's body as the recording holds it (decoded), for matching; None when it does
    not decode or decodes past ``coding.LIMIT`` (a decompression bomb): then it is not
    compared. mitmproxy's own decoding (``get_content``) has no limit."""
    raw = rq.raw_content or b""
    header = ", ".join(rq.headers.get_all("content-encoding"))
    if not coding.codings(header):
        return raw
    try:
        return coding.decode(raw, header).body
    except coding.Undecodable as exc:
        log.warning(
            "shadowtape deps: the body of %s %s:%s%s is not compared (%s)",
            rq.method,
            rq.host,
            rq.port,
            rq.path,
            exc,
        )
        return None


def _error(flow: http.HTTPFlow) -> str | None:
    if flow.metadata.get(_STOPPED):
        return "held by a fault when the proxy stopped"
    return flow.error.msg if flow.error is not None else None


def _answer(found: Recorded) -> http.Response:
    headers = [
        (name.encode("latin-1", "replace"), value.encode("latin-1", "replace"))
        for name, value in found.headers
        if name.lower() not in _NOT_COPIED
    ]
    response = http.Response.make(found.status or 200, found.response_body)
    response.headers = http.Headers(
        [*headers, (b"content-length", b"%d" % len(found.response_body))]
    )
    if found.reason:
        response.reason = found.reason
    return response


class DepsRecorder(Recorder):
    """The Recorder, but a faulted or mocked call is not what the dependency answered,
    so it is never recorded."""

    def response(self, flow: Any) -> None:
        if not (flow.metadata.get(_FAULT) or flow.metadata.get(_MATCH)):
            super().response(flow)

    def error(self, flow: Any) -> None:
        if not (flow.metadata.get(_FAULT) or flow.metadata.get(_MATCH)):
            super().error(flow)
