"""GraphQL over GET and in forms: variables bound to secret-named arguments
(graphqlget.py)."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus, unquote_plus

from shadowtape import Exchange, Request
from shadowtape.sanitize import Sanitizer
from tests.sanitize.posted import posted

SANITIZER = Sanitizer(key=b"k")
MUTATION = (
    "mutation($p: String!, $n: Int, $e: String) {login(password: $p, pin: $n, email: $e) {ok}}"
)
VARIABLES = {"p": "hunter2hunter2X", "n": 482913, "e": "shoes-red"}


def _query(query: str, variables: object, encode: object = quote) -> str:
    assert callable(encode)
    return f"query={encode(query, safe='')}&variables={encode(json.dumps(variables), safe='')}"


def test_a_variable_bound_to_a_secret_argument_is_replaced_in_a_query_string() -> None:
    out = SANITIZER.sanitize(
        Exchange(
            request=Request("GET", "api.test", path="/graphql", query=_query(MUTATION, VARIABLES))
        )
    )
    assert "hunter2hunter2X" not in out.request.query and "482913" not in out.request.query
    variables = json.loads(unquote_plus(out.request.query.split("&variables=")[1]))
    assert variables["e"] == "shoes-red"  # bound to an argument that is not secret
    assert isinstance(variables["n"], int)
    assert "request.query.variables.p" in out.redactions


def test_a_graphql_form_post_is_read_the_same_way() -> None:
    body = _query(MUTATION, VARIABLES, quote_plus)
    out = SANITIZER.sanitize(posted(body, "application/x-www-form-urlencoded"))
    assert b"hunter2hunter2X" not in out.request.body and b"shoes-red" in out.request.body


def test_a_query_whose_arguments_are_not_secret_is_kept() -> None:
    query = _query("query($q: String!) {search(term: $q) {id}}", {"q": "hunter2hunter2X"})
    out = SANITIZER.sanitize(
        Exchange(request=Request("GET", "api.test", path="/graphql", query=query))
    )
    assert out.request.query == query
