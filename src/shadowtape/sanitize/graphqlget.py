"""GraphQL sent over GET (or as a form): variables bound to secret-named arguments.

``?query=mutation($p: String!){login(password: $p){ok}}&variables={"p": "..."}`` puts
the password under a variable whose name says nothing; the query names the argument it
is bound to. As for a JSON body (jsonwalk), each variable bound to a secret-named
argument is replaced (a constant bound only to ``key`` or ``code`` stays, as under such a
JSON key), and the ``variables`` parameter written back encoded as it came: raw if it
was sent raw.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson

from shadowtape.sanitize.constants import symbol_or_path
from shadowtape.sanitize.context import Context
from shadowtape.sanitize.jsonwalk import JsonValue, graphql_secrets
from shadowtape.sanitize.percent import quote, quote_plus, unquote

#: Work units (``Context.spend``) for reading one query and its variables.
UNITS = 25
#: What percent-encoding leaves as it is in the value written back.
_SAFE = "@:!$'()*,-._~"
#: What a value written back raw must not hold: it would end or change the pair.
_ESCAPED = frozenset("%&#+")


def may_hold(text: str) -> bool:
    """Could ``text`` (a query string or form) be a GraphQL request with variables?"""
    return "variables" in text and "query" in text


def bind(pairs: list[str], ctx: Context, location: Callable[[str], str], *, plus: bool) -> bool:
    """Replace, in place in ``pairs``, the variables bound to secret-named arguments;
    True when one was."""
    query = variables = None
    at = -1
    for index, pair in enumerate(pairs):
        name, _, value = pair.partition("=")
        if name == "query":
            query = value
        elif name == "variables":
            variables, at = value, index
    if query is None or variables is None:
        return False
    ctx.spend(UNITS)
    query = unquote(query, plus=plus)
    if "$" not in query:
        return False
    try:
        data = orjson.loads(unquote(variables, plus=plus))
    except orjson.JSONDecodeError:
        return False
    if not isinstance(data, dict):
        return False
    names = ctx.policy.secret_field
    request: dict[str, JsonValue] = {"query": query, "variables": data}
    bound = graphql_secrets(request, lambda arg: names.matches(arg) and not names.whole_only(arg))
    # Bound only to arguments secret as a whole name (``key: $key``): a constant or a
    # path stays, as under such a JSON key (constants.symbol_or_path).
    weak = graphql_secrets(request, names.whole_only) - bound
    bound |= {name for name in weak if not symbol_or_path(data[name], paths=False)}
    if not bound:
        return False
    where = location("variables")
    for name in bound:
        data[name] = _secret(data[name], ctx, f"{where}.{name}")
    text = orjson.dumps(data).decode()
    if variables == unquote(variables, plus=plus) and not _ESCAPED.intersection(text):
        pairs[at] = "variables=" + text  # sent raw, written back raw
    else:
        quoted = quote_plus(text, safe=_SAFE) if plus else quote(text, safe=_SAFE)
        pairs[at] = "variables=" + quoted
    return True


def _secret(value: object, ctx: Context, where: str) -> object:
    """``value`` replaced: a string or number whole, each leaf of a list or object."""
    if isinstance(value, str):
        return ctx.secret(value, where) if value else value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        ctx.record(where)
        return ctx.pseudo.number(int(value))
    if isinstance(value, list):
        return [_secret(item, ctx, where) for item in value]
    if isinstance(value, dict):
        return {key: _secret(item, ctx, where) for key, item in value.items()}
    return value  # pragma: no cover - JSON holds nothing else
