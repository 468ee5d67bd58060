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
