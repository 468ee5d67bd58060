"""The Sanitizer: an Exchange in, a new Exchange with every secret pseudonymized out.

It runs a fixed list of small steps, in order, on a mutable copy (a ``Draft``): request
headers, response headers, query, path, request body, response body, error message,
reason phrase (the last two also for header lines quoted in them). Each
step replaces what it finds and remembers values found in secret positions; because a
later step can find a secret that an earlier step's fields also hold (a token in a
response body that was in the request path), the steps that came before are run again
in echo-only mode for those late secrets. Then Content-Length is corrected where a
body's length changed.

A sanitizer never raises on traffic. If a step fails on input nobody foresaw, the
exchange is *failed closed*: bodies dropped (flagged truncated), path, query and header
values replaced wholesale, so a bug costs detail, never a leaked secret.

A ``Deadline`` bounds one call's time: a body whose step has not started (or, when the
deadline's ``guard`` interrupts it, not finished) by then is dropped with the redaction
``request.body: dropped (sanitize budget)``; everything else is still sanitized.

A body that needs more than ``MAX_BODY_REDACTIONS`` replacements in one pass is dropped
too (``request.body: dropped (over 1000 redactions)``): each replacement is a keyed
pseudonym made in Python, so a body packed with secrets would cost far more per byte
than any other; dropped, it costs at most that many, and nothing in it reaches a tape.
A header, the URL, the reason phrase or the error message needing that many fails the
exchange closed.

Work is bounded the same way, so that time stays linear in the input with a small
constant: scanners count the candidates they examine one by one in Python
(``Context.spend``), and a step may spend ``WORK_PER_KIB`` units per KiB it reads (at
least ``WORK_FLOOR``). A body denser in candidates is dropped
(``request.body: dropped (too dense to scan)``); a header, URL or message fails the
exchange closed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from dataclasses import field as default
from http import HTTPStatus
from typing import TypeVar

import re2

from shadowtape.errors import SanitizeError
from shadowtape.exchange import Exchange, ExchangeError, Request, Response
from shadowtape.sanitize import beyondascii, bodies, headers, urls
from shadowtape.sanitize.context import EXACT_ECHO, Context, TooDense, TooManyRedactions
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy, Rules

log = logging.getLogger("shadowtape.sanitize")

ENV_KEY = "SHADOWTAPE_SANITIZE_KEY"
#: Used by every Sanitizer of this process when no key is configured.
_PROCESS_KEY = secrets.token_bytes(32)
#: Header values kept when an exchange is failed closed: framing, nothing personal.
_FRAMING = frozenset(
    {"content-type", "content-length", "content-encoding", "transfer-encoding", "date"}
)
#: Replacements one body may need in one pass before it is dropped whole.
MAX_BODY_REDACTIONS = 1000
#: Work units (``Context.spend``, about a microsecond each) a step may spend per KiB it
#: reads, and at least: a text denser in candidates than this is dropped, not scanned.
WORK_PER_KIB = 32
WORK_FLOOR = 5000


@dataclass(slots=True)
class Draft:
    """The mutable copy the steps work on."""

    request_headers: list[tuple[str, str]]
    response_headers: list[tuple[str, str]]
    path: str
    query: str
    request_body: bytes
    response_body: bytes
    error_message: str
    reason: str = ""
    request_truncated: bool = False
    response_truncated: bool = False
    #: The body was dropped for the time budget (its size is kept, its bytes are not).
    request_dropped: bool = False
    response_dropped: bool = False
    #: Tags, names and values (an import's notes, timings and comments land here).
    tags: list[tuple[str, str]] = default(default_factory=list)


class OverBudget(BaseException):
    """Raised by a ``Deadline.guard`` to stop a body step; a BaseException, so no step's
    ``except Exception`` swallows it."""


class Deadline:
    """When one sanitize call must be done (``time.monotonic()``).

    Checked before every step and every body; ``guard`` wraps each body step and may
    interrupt it by raising OverBudget (the recorder's worker process does, with a timer).
    """

    def __init__(self, at: float) -> None:
        self.at = at

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        yield


@dataclass(frozen=True, slots=True)
class Step:
    """One small rule: ``run`` edits the draft; ``fields`` lists what it may have missed."""

    name: str
    run: Callable[[Draft, Context], None]
    fields: Callable[[Draft], Sequence[str | bytes]]
    #: True when the step echoes every secret it finds itself (it finds them all first):
    #: then only secrets found by later steps can be missing from its fields.
    finds_first: bool = False
    #: "request" or "response" for a body step: what a deadline drops instead of running it.
    body: str | None = None


def _request_headers(d: Draft, ctx: Context) -> None:
    headers.sanitize(d.request_headers, ctx, "request")


def _response_headers(d: Draft, ctx: Context) -> None:
    headers.sanitize(d.response_headers, ctx, "response")


def _query(d: Draft, ctx: Context) -> None:
    d.query = urls.params(d.query, ctx, lambda name: f"request.query.{name}")


def _path(d: Draft, ctx: Context) -> None:
    d.path = urls.path(d.path, ctx, "request.path")


def _request_body(d: Draft, ctx: Context) -> None:
    content_type = bodies.content_type_of(d.request_headers)
    d.request_body = bodies.sanitize_body(d.request_body, content_type, ctx, "request.body")
    if d.request_truncated:
        d.request_body = bodies.cut_tail(d.request_body, ctx, "request.body")


def _response_body(d: Draft, ctx: Context) -> None:
    content_type = bodies.content_type_of(d.response_headers)
    d.response_body = bodies.sanitize_body(d.response_body, content_type, ctx, "response.body")
    if d.response_truncated:
        d.response_body = bodies.cut_tail(d.response_body, ctx, "response.body")


def _error(d: Draft, ctx: Context) -> None:
    d.error_message = _recorder_text(d.error_message, ctx, "error.message")


#: The registered reason phrases ("OK", "Not Found"...): the words every server sends
#: with its status, with nothing to look for in them.
_STANDARD_REASONS = frozenset(status.phrase for status in HTTPStatus)


def _reason(d: Draft, ctx: Context) -> None:
    if d.reason not in _STANDARD_REASONS:
        d.reason = _recorder_text(d.reason, ctx, "response.reason")


def _recorder_text(text: str, ctx: Context, location: str) -> str:
    """A text the recorder writes (an error, a reason phrase): quoted header lines too."""
    return ctx.text(headers.quoted_lines(text, ctx, location), location, fields=True)


def _tags(d: Draft, ctx: Context) -> None:
    d.tags = [
        (ctx.text(name, "tags", fields=True), ctx.text(value, "tags", fields=True))
        for name, value in d.tags
    ]


STEPS: tuple[Step, ...] = (
    Step(
        "request headers",
        _request_headers,
        lambda d: [v for _, v in d.request_headers],
        finds_first=True,
    ),
    Step(
        "response headers",
        _response_headers,
        lambda d: [v for _, v in d.response_headers],
        finds_first=True,
    ),
    Step("query", _query, lambda d: [d.query]),
    Step("path", _path, lambda d: [d.path]),
    Step("request body", _request_body, lambda d: [d.request_body], body="request"),
    Step("response body", _response_body, lambda d: [d.response_body], body="response"),
    Step("error", _error, lambda d: [d.error_message]),
    Step("reason", _reason, lambda d: [d.reason]),
    Step("tags", _tags, lambda d: [part for pair in d.tags for part in pair]),
)


def resolve_key(key: bytes | None) -> bytes:
    """The key given, else SHADOWTAPE_SANITIZE_KEY, else this process's random key."""
    if key is not None:
        if not key:
            raise SanitizeError("the sanitize key is empty; pass a long random secret")
        return key
    configured = os.environ.get(ENV_KEY, "")
    if configured:
        return configured.encode("utf-8", "surrogatepass")
    log.warning(
        "%s is not set: pseudonyms use a random key that dies with this process, so the "
        "same value gets a different pseudonym after a restart or on another replica. "
        "Set %s to a long random secret (e.g. `openssl rand -hex 32`) shared by every "
        "recorder of this deployment.",
        ENV_KEY,
        ENV_KEY,
    )
    return _PROCESS_KEY


class Sanitizer:
    """Replaces secrets in exchanges with keyed pseudonyms. Thread-safe, no I/O."""

    def __init__(
        self,
        key: bytes | None = None,
        rules: Rules | None = None,
        *,
        max_redactions: int = MAX_BODY_REDACTIONS,
    ) -> None:
        """``max_redactions``: replacements one body may need before it is dropped whole."""
        self.rules = rules or Rules()
        self._policy = Policy.build(self.rules)
        self._pseudo = Pseudonymizer(resolve_key(key))
        beyondascii.prepare()
        self.steps = STEPS
        self.max_redactions = max_redactions

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], key: bytes | None = None) -> Sanitizer:
        """A sanitizer with the rules of a TOML file (SanitizeError if it cannot be used)."""
        return cls(key=key, rules=Rules.from_file(path))

    def __repr__(self) -> str:
        return f"Sanitizer(rules={self.rules!r})"

    def pseudonym(self, value: str) -> str:
        """The pseudonym this sanitizer gives ``value`` (for joins and for tests)."""
        return self._pseudo(value)

    def sanitize(self, exchange: Exchange, *, deadline: Deadline | None = None) -> Exchange:
        """A new Exchange with secrets replaced and their locations added to redactions.

        When nothing needed replacing, the (immutable) input itself is returned. With a
        ``deadline``, a body not sanitized by then is dropped (see the module's docstring).
        """
        try:
            return self._sanitize(exchange, deadline)
        except TooDense:
            log.warning(
                "exchange %s has a header, URL or message too dense in candidates to "
                "scan; its bodies, path, query and header values were replaced wholesale",
                exchange.id,
            )
            return self._fail_closed(exchange, TOO_DENSE)
        except TooManyRedactions:
            log.warning(
                "exchange %s has a header, URL or message needing more than %d "
                "replacements; its bodies, path, query and header values were replaced "
                "wholesale",
                exchange.id,
                self.max_redactions,
            )
            return self._fail_closed(exchange, OVER_REDACTIONS.format(self.max_redactions))
        except Exception as exc:  # never fail the caller; never let a raw value through
            log.error(
                "sanitizing exchange %s failed (%s); its bodies, path, query and header "
                "values were replaced wholesale",
                exchange.id,
                type(exc).__name__,
            )
            return self._fail_closed(exchange)

    def _sanitize(self, exchange: Exchange, deadline: Deadline | None) -> Exchange:
        request, response, error = exchange.request, exchange.response, exchange.error
        draft = Draft(
            request_headers=list(request.headers),
            response_headers=list(response.headers) if response is not None else [],
            path=request.path,
            query=request.query,
            request_body=request.body,
            response_body=response.body if response is not None else b"",
            error_message=error.message if error is not None else "",
            reason=response.reason if response is not None else "",
            request_truncated=request.body_truncated,
            response_truncated=response is not None and response.body_truncated,
            tags=list(exchange.tags.items()),
        )
        ctx = Context(self._policy, self._pseudo)
        starts = []
        for step in self.steps:
            if step.finds_first:
                _run(step, draft, ctx, deadline, self.max_redactions)
                starts.append(len(ctx.order))
            else:
                starts.append(len(ctx.order))
                _run(step, draft, ctx, deadline, self.max_redactions)
        _late_echo(self.steps, starts, draft, ctx, deadline, self.max_redactions)
        if not ctx.redactions:
            return exchange
        body = _body(draft.request_headers, request, draft.request_body, draft.request_dropped)
        new_request = _replace(
            request,
            headers=tuple(draft.request_headers),
            path=draft.path,
            query=draft.query,
            **body,
        )
        new_response = response
        if response is not None and (
            draft.response_body is not response.body
            or tuple(draft.response_headers) != response.headers
            or draft.reason != response.reason
        ):
            body = _body(
                draft.response_headers, response, draft.response_body, draft.response_dropped
            )
            new_response = _replace(
                response, headers=tuple(draft.response_headers), reason=draft.reason, **body
            )
        new_error = error
        if error is not None and draft.error_message != error.message:
            new_error = ExchangeError(kind=error.kind, message=draft.error_message)
        known = set(exchange.redactions)
        clean = dict.fromkeys(ctx.clean_location(where) for where in ctx.redactions)
        added = tuple(where for where in _collapse(clean) if where not in known)
        return _replace(
            exchange,
            request=new_request,
            response=new_response,
            error=new_error,
            redactions=exchange.redactions + added,
            tags=dict(draft.tags),
        )

    def _fail_closed(self, exchange: Exchange, why: str | None = None) -> Exchange:
        """Bodies dropped, everything else replaced wholesale; ``why`` is added to the
        redactions when given. A value gets its pseudonym, as anywhere else (past
        pseudonym.SHAPED_MAX, its long form)."""
        pseudo = self._pseudo

        def scrub(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
            return tuple((n, v if n.lower() in _FRAMING else pseudo(v)) for n, v in pairs)

        request = exchange.request
        locations = ["request.headers", "request.path", "request.query", "request.body"]
        new_request = _replace(
            request,
            headers=scrub(request.headers),
            path=pseudo(request.path),
            query=pseudo(request.query),
            body=b"",
            body_truncated=request.body_truncated or bool(request.body),
        )
        response = exchange.response
        if response is not None:
            locations += ["response.headers", "response.reason", "response.body"]
            response = replace(
                response,
                reason=pseudo(response.reason) if response.reason else "",
                headers=scrub(response.headers),
                body=b"",
                body_truncated=response.body_truncated or bool(response.body),
            )
        error = exchange.error
        if error is not None:
            locations.append("error.message")
            error = ExchangeError(kind=error.kind, message=pseudo(error.message))
        if exchange.tags:
            locations.append("tags")
        if why is not None:
            locations.append(why)
        known = set(exchange.redactions)
        return exchange.replace(
            request=new_request,
            response=response,
            error=error,
            tags={name: pseudo(value) for name, value in exchange.tags.items()},
            redactions=exchange.redactions + tuple(w for w in locations if w not in known),
        )


#: More redaction locations than this in one exchange (a list of 5,000 users, each with a
#: password) are listed per field rather than per array element: "$.users[*].password".
MAX_LOCATIONS = 100
_INDEX = re2.compile(r"\[[0-9]+\]")


def _collapse(locations: dict[str, None]) -> list[str]:
    if len(locations) <= MAX_LOCATIONS:
        return list(locations)
    return list(dict.fromkeys(_INDEX.sub("[*]", where) for where in locations))


_FIELDS: dict[type, tuple[str, ...]] = {}
T = TypeVar("T")


def _replace(obj: T, **changes: object) -> T:
    """dataclasses.replace, without its per-call introspection (it is on the hot path)."""
    cls = type(obj)
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls) if f.init)  # type: ignore[arg-type]
    values = {name: getattr(obj, name) for name in names}
    values.update(changes)
    return cls(**values)


#: The redaction of a body dropped because its exchange ran out of time.
DROPPED_FOR_BUDGET = "{}.body: dropped (sanitize budget)"
#: The redaction of a body dropped for needing more (``{}``: the side, then the limit).
DROPPED_FOR_REDACTIONS = "{}.body: dropped (over {} redactions)"
#: The redaction of an exchange failed closed because another field needed more.
OVER_REDACTIONS = "exchange: replaced wholesale (over {} redactions in one field)"
#: The redaction of a body dropped for holding more candidates than its size allows.
DROPPED_FOR_DENSITY = "{}.body: dropped (too dense to scan)"
#: The redaction of an exchange failed closed because a header, URL or message did.
TOO_DENSE = "exchange: replaced wholesale (a field too dense to scan)"


def _run(
    step: Step,
    draft: Draft,
    ctx: Context,
    deadline: Deadline | None,
    max_redactions: int = MAX_BODY_REDACTIONS,
) -> None:
    """Run one step; a body step only within the deadline and the redaction limit, else
    its body is dropped."""
    ctx.work_limit = ctx.work + allowance(step.fields(draft))
    if step.body is None:
        # Past a limit here, TooManyRedactions or TooDense reaches Sanitizer.sanitize: the
        # exchange is failed closed (a path or header value cannot be dropped like a body).
        ctx.limit = ctx.replaced + max_redactions
        ctx.kept = 0
        try:
            step.run(draft, ctx)
        finally:
            ctx.limit = ctx.work_limit = sys.maxsize
        return
    if getattr(draft, f"{step.body}_dropped"):
        return
    reason = DROPPED_FOR_BUDGET.format(step.body)
    if deadline is None or not deadline.expired():
        ctx.limit = ctx.replaced + max_redactions
        ctx.kept = 0
        try:
            if deadline is None:
                step.run(draft, ctx)
            else:
                with deadline.guard():
                    step.run(draft, ctx)
            return
        except OverBudget:
            pass
        except TooDense:
            reason = DROPPED_FOR_DENSITY.format(step.body)
        except TooManyRedactions:
            reason = DROPPED_FOR_REDACTIONS.format(step.body, max_redactions)
        finally:
            ctx.limit = ctx.work_limit = sys.maxsize
    _drop_body(draft, ctx, step.body, reason)


def allowance(texts: Sequence[str | bytes]) -> int:
    """The work units a step reading ``texts`` may spend."""
    return max(WORK_FLOOR, sum(map(len, texts)) * WORK_PER_KIB // 1024)


def _drop_body(draft: Draft, ctx: Context, side: str, reason: str) -> None:
    if not getattr(draft, f"{side}_body"):
        return
    setattr(draft, f"{side}_body", b"")
    setattr(draft, f"{side}_dropped", True)
    # Locations a step interrupted half-way recorded inside the body are moot now.
    prefix = f"{side}.body"
    for where in [w for w in ctx.redactions if w.startswith(prefix)]:
        del ctx.redactions[where]
    ctx.record(reason)


def _body(
    pairs: list[tuple[str, str]], before: Request | Response, body: bytes, dropped: bool
) -> dict[str, object]:
    """The new body fields of a request or response; corrects Content-Length in ``pairs``."""
    if dropped:
        return {"body": b"", "body_truncated": True}
    _fix_length(pairs, before.body, body, before.body_truncated)
    return {"body": body, "body_size": before.body_size + len(body) - len(before.body)}


def _late_echo(
    steps: Sequence[Step],
    starts: list[int],
    draft: Draft,
    ctx: Context,
    deadline: Deadline | None,
    max_redactions: int,
) -> None:
    """Run again, echo only, each step whose fields hold a secret found after it started."""
    if not ctx.order:
        return
    ctx.echo_only = True
    for step, start in zip(steps, starts, strict=True):
        later = [key for keys in ctx.order[start:] for key in keys]
        if later and _may_hold(step.fields(draft), later, ctx):
            _run(step, draft, ctx, deadline, max_redactions)


def _may_hold(fields: Sequence[str | bytes], keys: list[str], ctx: Context) -> bool:
    """``_holds``, within the work its fields allow (a search is paid for as the step's
    own is): past it, yes, and the step run again fails closed in its own way."""
    ctx.work_limit = ctx.work + allowance(fields)
    try:
        return _holds(fields, keys, ctx)
    except TooDense:
        return True
    finally:
        ctx.work_limit = sys.maxsize


def _holds(fields: Sequence[str | bytes], keys: list[str], ctx: Context) -> bool:
    """May ``fields`` hold one of ``keys`` (search strings, or a deferred form's first
    characters)? A body is searched as its bytes, for the UTF-8 bytes of each. Past
    EXACT_ECHO keys, for every known secret at once (a step that found hundreds itself
    is not run again for nothing)."""
    if len(keys) > EXACT_ECHO:
        return any(map(ctx.has_echo, fields))
    encoded: list[bytes] | None = None
    for field in fields:
        if isinstance(field, str):
            if any(key in field for key in keys):
                return True
        else:
            if encoded is None:
                encoded = [key.encode("utf-8", "surrogatepass") for key in keys]
            if any(key in field for key in encoded):
                return True
    return False


def _fix_length(pairs: list[tuple[str, str]], old: bytes, new: bytes, truncated: bool) -> None:
    """Correct Content-Length when sanitizing changed a body's length.

    Skipped when a Content-Encoding applies: the header then counts encoded bytes, which
    the stored (decoded) body no longer has. A truncated body shifts it by the change.
    """
    delta = len(new) - len(old)
    if delta == 0:
        return
    for name, value in pairs:
        if name.lower() == "content-encoding" and value.strip().lower() not in ("", "identity"):
            return
    for i, (name, value) in enumerate(pairs):
        if name.lower() != "content-length":
            continue
        if not truncated:
            pairs[i] = (name, str(len(new)))
        elif value.strip().isdigit():
            pairs[i] = (name, str(int(value.strip()) + delta))
