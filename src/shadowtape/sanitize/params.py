"""Parameters that carry a credential by protocol, whatever the field-name rules say.

OAuth, PKCE, SAML, webhook and signed-URL parameters travel in query strings, form
bodies and the hidden inputs of an auto-submitting HTML form (a SAML POST binding, an
OIDC ``form_post``), so URLs, forms and HTML tags share this one list.
"""

from __future__ import annotations

from shadowtape.sanitize.names import normalise

#: Parameters that carry a credential in URLs and forms whatever the field-name rules say:
#: OAuth and PKCE (``code``, ``state``, ``code_verifier``), SAML, webhook and signed-URL
#: signatures, keys. Compared whole, after normalising (``SAMLResponse`` ->
#: ``saml_response``), so ``zip_code`` or ``country_code`` stay as they are.
URL_SECRET_PARAMS = frozenset(
    {
        "code", "state", "code_verifier", "code_challenge", "saml_response", "saml_request",
        "relay_state", "hmac", "signature", "sig", "key", "id_token", "access_token",
        "refresh_token", "token", "oauth_token", "oauth_verifier", "ticket", "nonce",
        "x_amz_signature", "x_amz_credential", "x_amz_security_token", "x_goog_signature",
        "x_goog_credential", "jsessionid", "phpsessid", "sid", "apikey", "api_key",
        # SAML's artifact binding: SAMLart, a one-time reference to the assertion
        # (normalised as "sam_lart"), and its other spellings.
        "sam_lart", "saml_art", "samlart",
    }
)  # fmt: skip


def secret_param(name: str) -> bool:
    """Is ``name`` a parameter that carries a credential (URL_SECRET_PARAMS)?"""
    return normalise(name) in URL_SECRET_PARAMS


def spellings() -> list[str]:
    """RE2 patterns of the parameters as lower-cased text spells them: ``samlresponse``,
    ``relay_state``, ``code-verifier``."""
    return ["[_\\-]?".join(name.split("_")) for name in sorted(URL_SECRET_PARAMS)]
