"""An exchange answering one body, for the tests of what a response body may carry."""

from __future__ import annotations

from shadowtape import Exchange, Request, Response
from shadowtape.sanitize import Sanitizer


def served(
    body: str, content_type: str | None = None, *, headers: tuple[tuple[str, str], ...] = ()
) -> Exchange:
    """A GET answered 200 with ``body`` (UTF-8), typed ``content_type`` if given, and
    ``headers``."""
    data = body.encode()
    typed = (("Content-Type", content_type),) if content_type is not None else ()
    response = Response(200, "OK", headers=typed + headers, body=data, body_size=len(data))
    return Exchange(request=Request("GET", "api.test", path="/"), response=response)


def stored(sanitizer: Sanitizer, exchange: Exchange) -> str:
    """The response body ``sanitizer`` keeps of ``exchange``."""
    response = sanitizer.sanitize(exchange).response
    assert response is not None
    return response.body.decode()
