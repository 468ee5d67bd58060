"""Framework debug pages (Rails, Django, Flask): secrets printed HTML-escaped, as a
Ruby hash, a Python dict or a table of settings and request headers (textfields.py)."""

from __future__ import annotations

import pytest

from shadowtape.sanitize import Sanitizer
from tests.sanitize.served import served, stored

SANITIZER = Sanitizer(key=b"k")
PASSWORD = "hunter2hunter2X"
TOKEN = "Zq8vR2mK9xLp4TnW7bYc"


def _stored(page: str) -> str:
    return stored(SANITIZER, served(page, "text/html; charset=utf-8"))


@pytest.mark.parametrize(
    "page",
    [
        # Rails: the request parameters, a Ruby hash, HTML-escaped.
        f'<h2>Request</h2><pre>{{"password"=&gt;"{PASSWORD}", '
        f'"authenticity_token"=&gt;"{TOKEN}", "commit"=&gt;"Log in"}}</pre>',
        # Django: settings and POST data, a Python dict, quotes escaped both ways.
        f"<pre>{{&#x27;PASSWORD&#x27;: &#x27;{PASSWORD}&#x27;, "
        f"&#x27;token&#x27;: &#x27;{TOKEN}&#x27;}}</pre>",
        f"<pre>{{&#39;PASSWORD&#39;: &#39;{PASSWORD}&#39;, "
        f"&#39;token&#39;: &#39;{TOKEN}&#39;}}</pre>",
        # Django and Flask: a table of META or settings, one name and value a row.
        f'<table><tr><td>DB_PASSWORD</td><td class="code"><pre>{PASSWORD}</pre></td></tr>'
        f"<tr><th>API_TOKEN</th><td>\n  {TOKEN}\n</td></tr></table>",
        f"<tr><td>HTTP_AUTHORIZATION</td><td><pre>&#x27;Bearer {TOKEN}&#x27;</pre></td></tr>"
        f"<tr><td>SECRET_KEY</td><td><pre>&#x27;{PASSWORD}&#x27;</pre></td></tr>",
    ],
    ids=["rails", "django &#x27;", "django &#39;", "settings table", "META table"],
)
def test_secrets_on_a_debug_page_are_replaced(page: str) -> None:
    stored = _stored(page)
    assert PASSWORD not in stored and TOKEN not in stored


def test_ordinary_values_on_a_debug_page_are_kept() -> None:
    page = (
        '<pre>{"commit"=&gt;"Log in", "utf8"=&gt;"yes"}</pre>'
        "<pre>{&#x27;DEBUG&#x27;: True, &#x27;TIME_ZONE&#x27;: &#x27;Europe/Paris&#x27;}</pre>"
        '<table><tr><td>SERVER_NAME</td><td class="code"><pre>web-01-xyz</pre></td></tr>'
        "<tr><td>key</td><td>theme_dark</td></tr>"
        "<tr><td>password</td><td></td></tr></table><p>a =&gt; b, it&#39;s fine</p>"
    )
    assert _stored(page) == page
