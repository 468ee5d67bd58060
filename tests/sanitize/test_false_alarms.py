"""Ordinary values under secret-looking names stay, and the catches beside them hold.

A replaced value is never compared by the diff, so a false alarm hides a regression as a
miss would: country, airport, ledger and status codes under ``code``, yes/no columns, a
masked setting on a debug page, an address form's ``state``, a GraphQL ``key`` argument.
Each case keeps the body byte for byte; each catch next to it is still replaced.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from shadowtape import Exchange, Request
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.sanitizer import DROPPED_FOR_DENSITY, DROPPED_FOR_REDACTIONS
from tests.sanitize.posted import posted
from tests.sanitize.served import served

SANITIZER = Sanitizer(key=b"false-alarms")
OAUTH_CODE = "SplxlOBeZQQYbYS6WxSbIA"
PASSWORD = "hunter2hunter2X"


def _kept(body: str, content_type: str) -> tuple[str, tuple[str, ...]]:
    out = SANITIZER.sanitize(served(body, content_type))
    assert out.response is not None
    return out.response.body.decode(), out.redactions


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("| Country | Code |\n|---|---|\n| Germany | DE |\n| Japan | JP |\n", "text/markdown"),
        ("| City | Code |\n|---|---|\n| Berlin | BER |\n| Zurich | ZRH |\n", "text/markdown"),
        (
            "| Code | Meaning |\n|---|---|\n| 200 | OK |\n| E_AUTH | Authentication failed |\n"
            "| E0042 | Quota exceeded |\n",
            "text/markdown",
        ),
        ("| Account | Code |\n|---|---|\n| Cash | ASSET |\n| Loans | LIAB |\n", "text/markdown"),
        ("| Key | Action |\n|---|---|\n| Ctrl+S | Save |\n| Esc | Close |\n", "text/markdown"),
        ("| Parameter | Token | Required |\n|---|---|---|\n| `id` | no | yes |\n", "text/markdown"),
        (
            "| Setting | Secret |\n|---|---|\n| `db.host` | no |\n| `db.password` | yes |\n",
            "text/md",
        ),
        (
            "| Name | Value |\n|---|---|\n| key | theme |\n| DB_PASSWORD | false |\n",
            "text/markdown",
        ),
        ("code,description\n200,OK\n404,Not Found\n", "text/plain"),
        ("code,description\r\n200,OK\r\n404,Not Found\r\n", "text/csv"),
        ("account,name,ledger_code\n1000,Cash,ASSET\n2000,Loans,LIAB\n", "text/csv"),
        ("country;currency_code\nGermany;EUR\nJapan;JPY\n", "text/csv"),
        ("user,password_set,api_key\nann,yes,false\nbob,no,N\n", "text/csv"),
    ],
    ids=[
        "md country code",
        "md airport code",
        "md status and error codes",
        "md ledger code",
        "md key combinations",
        "md yes/no token column",
        "md yes/no secret column",
        "md name/value constants",
        "plain csv status codes",
        "csv status codes",
        "csv ledger code",
        "csv currency code",
        "csv yes/no",
    ],
)
def test_constants_and_flags_under_secret_columns_are_kept(body: str, content_type: str) -> None:
    stored, redactions = _kept(body, content_type)
    assert stored == body
    assert redactions == ()


@pytest.mark.parametrize(
    ("body", "content_type", "secrets"),
    [
        (f"| Client | Code |\n|---|---|\n| web | {OAUTH_CODE} |\n", "text/md", [OAUTH_CODE]),
        ("| user | password |\n|---|---|\n| bob | Secret |\n", "text/markdown", ["Secret"]),
        ("| Device | user_code |\n|---|---|\n| tv | WDJBMJHT |\n", "text/markdown", ["WDJBMJHT"]),
        ("id,code\n1," + OAUTH_CODE + "\n2,482913\n", "text/csv", [OAUTH_CODE, "482913"]),
        ("id,sms_code\n1,4829\n", "text/csv", ["4829"]),
        ("user,password\nann,yes-and-more\n", "text/csv", ["yes-and-more"]),
    ],
    ids=["md oauth code", "md password word", "md device user code", "csv codes", "csv otp",
         "csv password"],
)  # fmt: skip
def test_secrets_under_the_same_columns_are_still_replaced(
    body: str, content_type: str, secrets: list[str]
) -> None:
    stored, redactions = _kept(body, content_type)
    for secret in secrets:
        assert secret not in stored
    assert redactions


def test_a_long_markdown_table_of_error_codes_is_kept_whole() -> None:
    rows = "".join(
        f"| E{i:04d} | {400 + i % 100} | Something about case {i} |\n" for i in range(1200)
    )
    body = "# Error codes\n\n| Code | HTTP | Meaning |\n|---|---|---|\n" + rows
    stored, redactions = _kept(body, "text/markdown")
    assert DROPPED_FOR_REDACTIONS.format("response", 1000) not in redactions
    assert stored == body


def test_a_long_plain_text_export_with_a_code_column_is_kept_whole() -> None:
    rows = "".join(f"{i},C{i:05d},Item {i},{i % 500}\n" for i in range(5000))
    body = "id,code,name,token_count\n" + rows
    stored, redactions = _kept(body, "text/plain")
    assert DROPPED_FOR_DENSITY.format("response") not in redactions
    assert stored == body


def test_a_csv_upload_with_a_code_column_is_kept() -> None:
    part = "country,code\nGermany,DE\nFrance,FR\n"
    body = (
        "--b0undary\r\n"
        'Content-Disposition: form-data; name="file"; filename="countries.csv"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
        f"{part}\r\n--b0undary--\r\n"
    )
    out = SANITIZER.sanitize(posted(body, "multipart/form-data; boundary=b0undary"))
    assert out.request.body.decode() == body
    assert out.redactions == ()


# Debug pages: Django masks a secret setting as '********************', HTML-escaped.


def _row(name: str, value: str) -> str:
    return f'<tr><td>{name}</td><td class="code"><pre>{value}</pre></td></tr>'


def test_a_masked_setting_on_a_debug_page_is_kept() -> None:
    masked = "&#x27;********************&#x27;"
    page = (
        "<table>"
        + _row("SECRET_KEY", masked)
        + _row("PASSWORD_HASHERS", masked)
        + _row("AUTH_PASSWORD_VALIDATORS", masked)
        + _row("EMAIL_HOST_PASSWORD", "&#39;••••••••&#39;")
        + _row("API_TOKEN", "xxxxxxxx")
        + "</table>"
    )
    stored, redactions = _kept(page, "text/html; charset=utf-8")
    assert stored == page
    assert redactions == ()


@pytest.mark.parametrize(
    "value",
    [
        f"&#x27;{PASSWORD}&#x27;",
        f"&#39;{PASSWORD}&amp;more&#39;",
        f"&quot;Bearer {PASSWORD}&quot;",
        f"[&#x27;{PASSWORD}&#x27;, &#x27;django.contrib.auth.hashers.Argon2PasswordHasher&#x27;]",
    ],
)
def test_a_secret_on_a_debug_page_is_replaced_and_its_escapes_kept(value: str) -> None:
    page = "<table>" + _row("DB_PASSWORD", value) + "</table>"
    stored, redactions = _kept(page, "text/html; charset=utf-8")
    assert PASSWORD not in stored
    assert redactions
    for escape in ("&#x27;", "&#39;", "&amp;", "&quot;"):
        assert stored.count(escape) == page.count(escape)
    assert stored.startswith('<table><tr><td>DB_PASSWORD</td><td class="code"><pre>')
    assert stored.endswith("</pre></td></tr></table>")


# Hidden inputs: an address form's state is a constant; an OIDC state is not.


@pytest.mark.parametrize(
    "inputs",
    [
        '<input type="hidden" name="state" value="CA"><input name="code" value="404">',
        "<input type=hidden name=state value=Bavaria><input name='code' value='NSW'>",
    ],
)
def test_a_constant_in_a_state_or_code_input_is_kept(inputs: str) -> None:
    page = f"<form>{inputs}</form>"
    stored, redactions = _kept(page, "text/html")
    assert stored == page
    assert redactions == ()


def test_a_random_state_or_code_input_is_still_replaced() -> None:
    state = "af0ifjsldkj3894"
    page = (
        f'<form><input type="hidden" name="state" value="{state}">'
        f'<input type="hidden" name="code" value="{OAUTH_CODE}"></form>'
    )
    stored, _ = _kept(page, "text/html")
    assert state not in stored and OAUTH_CODE not in stored
    assert stored.count('name="state" value="') == 1


# GraphQL over GET: a constant under ``key`` stays, and raw variables stay raw.

METAFIELD = (
    "query($handle: String!, $key: String!) { product(handle: $handle) "
    '{ metafield(namespace: "custom", key: $key) { value } } }'
)


def _query_out(query: str) -> tuple[str, tuple[str, ...]]:
    out = SANITIZER.sanitize(
        Exchange(request=Request("GET", "shop.test", path="/graphql", query=query))
    )
    return out.request.query, out.redactions


def test_a_constant_bound_to_a_key_argument_is_kept() -> None:
    query = (
        f"query={quote(METAFIELD, safe='')}"
        '&variables={"handle":"ceramic-mug","key":"care_instructions"}'
    )
    assert _query_out(query) == (query, ())


def test_a_secret_variable_sent_raw_is_written_back_raw() -> None:
    login = "mutation($p: String!, $k: String) {login(password: $p, key: $k) {ok}}"
    query = f'query={quote(login, safe="")}&variables={{"p":"{PASSWORD}","k":"{OAUTH_CODE}"}}'
    out, redactions = _query_out(query)
    assert PASSWORD not in out and OAUTH_CODE not in out
    assert out.startswith(query.partition("&variables=")[0] + '&variables={"p":"')
    assert "%" not in out.partition("&variables=")[2]
    assert set(redactions) == {"request.query.variables.p", "request.query.variables.k"}


def test_a_secret_variable_sent_encoded_is_written_back_encoded() -> None:
    login = "mutation($p: String!) {login(password: $p) {ok}}"
    variables = quote(f'{{"p":"{PASSWORD}"}}', safe="")
    out, _ = _query_out(f"query={quote(login, safe='')}&variables={variables}")
    assert PASSWORD not in out
    assert out.partition("&variables=")[2].startswith("%7B%22p%22")
