"""The hidden inputs of an auto-submitting HTML form carry what a query string or a form
body would: a SAML POST binding's ``SAMLResponse`` and ``RelayState``, an OIDC
``form_post``'s ``code``, ``state`` and ``id_token``. Every identity provider sends them
so; they are replaced as the same parameters are in URLs and forms."""

from __future__ import annotations

import pytest

from shadowtape.sanitize import Sanitizer
from tests.sanitize.adversarial import _response_body

SANITIZER = Sanitizer(key=b"form-post-test")
SECRETS = {
    "SAMLResponse": "PHNhbWxwOlJlc3BvbnNlIHhtbG5zOnNhbWxwPSJ1cm46b2FzaXM6bmFtZXM=",
    "RelayState": "ss:mem:4f1c2a9b8e7d6c5b",
    "code": "SplxlOBeZQQYbYS6WxSbIA",
    "state": "af0ifjsldkj3894",
    "id_token": "Qx7mVb2Lk9Rz4TaPw1sD",
    "SAMLart": "AAQAADWNEw5VT47wcO4zX%2FiEzMmFQvGknDfws2ZtqSGdkNSbsW1cmVR0bzU%3D",
}


def page(inputs: str) -> str:
    return f'<html><body onload="document.forms[0].submit()"><form method="post" action="https://sp.example/acs">{inputs}</form></body></html>'


def stored(html: str) -> str:
    out = SANITIZER.sanitize(_response_body("text/html; charset=utf-8")(html))
    assert out.response is not None
    return out.response.body.decode()


@pytest.mark.parametrize(
    "form",
    [
        '<input type="hidden" name="{name}" value="{value}"/>',
        "<input type='hidden' name='{name}' value='{value}'>",
        "<input type=hidden name={name} value={value}>",
        '<INPUT TYPE="HIDDEN" NAME="{name}" VALUE="{value}">',
    ],
)
def test_hidden_inputs_of_a_form_post_lose_their_values(form: str) -> None:
    body = stored(page("".join(form.format(name=n, value=v) for n, v in SECRETS.items())))
    for name, value in SECRETS.items():
        assert value not in body
        assert name in body or name.upper() in body


def test_inputs_named_otherwise_keep_their_values() -> None:
    inputs = (
        '<input name="statement" value="hello there friend">'
        '<input name="zip_code" value="94107">'
        '<input name="country_code" value="US">'
        '<input name="codename" value="blue falcon">'
    )
    assert stored(page(inputs)) == page(inputs)
