"""An exchange posting one body, for the tests of what a body may carry."""

from __future__ import annotations

import dataclasses

from shadowtape import Exchange, Request, Response


def posted(body: str, content_type: str = "text/plain", *, path: str = "/run") -> Exchange:
    """A POST of ``body`` (UTF-8) with ``content_type``, answered 200 with no body."""
    data = body.encode()
    request = Request("POST", "api.test", path=path, headers=(("Content-Type", content_type),))
    request = dataclasses.replace(request, body=data, body_size=len(data))
    return Exchange(request=request, response=Response(200, "OK"))


def unchanged(body: str, content_type: str = "text/plain") -> bool:
    """Does sanitizing a POST of ``body`` keep it byte for byte, with no redaction?"""
    from shadowtape.sanitize import Sanitizer

    out = Sanitizer(key=b"k").sanitize(posted(body, content_type))
    return out.request.body == body.encode() and out.redactions == ()


def stored_without(detector: str, body: str, content_type: str = "text/plain") -> bytes:
    """The body stored for a POST of ``body`` with the built-in ``detector`` switched off."""
    from shadowtape.sanitize import Sanitizer
    from shadowtape.sanitize.rules import Rules

    rules = Rules.from_toml(f"[detectors]\n{detector} = false")
    return Sanitizer(key=b"k", rules=rules).sanitize(posted(body, content_type)).request.body
