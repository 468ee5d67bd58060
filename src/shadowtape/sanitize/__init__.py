"""Sanitizing: secrets are replaced by keyed pseudonyms before anything is stored.

``Sanitizer`` is the entry point (see docs/sanitizing.md). The modules, one idea each:

- what is secret: ``rules`` (defaults, the TOML rules file, the allow-list), ``names``
  (which names look secret), ``params`` (protocol parameters: OAuth, SAML, signed URLs)
  with ``relaystate`` (a SAML RelayState that is a return URL, not state),
  ``constants`` (values under a secret name that are plainly none: codes, placeholders),
  ``detectors`` (what a secret looks like in text) with ``commandline`` (passwords on
  command lines and in ``.netrc``), ``pgpass``, ``digestauth`` (HTTP Digest outside
  ``Authorization``), ``versions`` (dotted numbers labelled as versions: no cards);
- what replaces it: ``pseudonym`` (keyed, format-preserving), ``beyondascii`` (letters
  beyond ASCII told apart for a whole text), ``splice`` (where pseudonyms landed);
- where it is found: ``headers`` and ``cookies``, ``urls``, ``percent``,
  ``graphqlget`` (GraphQL variables in a query string), ``bodies``, ``jsonbody`` and
  ``jsonwalk``, ``jsonpath``, ``msgpackbody``, ``multipart``, ``csvbody``, ``binary``,
  ``liveparts`` (which multipart parts may change), ``textfields`` and ``fieldstarts``
  (fields in free text), with ``mdtable`` (Markdown tables), ``godump`` (Go ``%+v``
  dumps) and ``kubeyaml`` (Kubernetes Secrets in YAML);
- known secrets found again: ``echoforms`` (their encoded forms), ``echoindex`` (all of
  them searched at once);
- ``context`` (one call's state and work budget), ``memo`` (verdicts about repeated text)
  and ``sanitizer`` (the steps, in order).
"""

from __future__ import annotations

from shadowtape.sanitize.rules import Rules, TextPattern
from shadowtape.sanitize.sanitizer import ENV_KEY, Sanitizer

__all__ = ["ENV_KEY", "Rules", "Sanitizer", "TextPattern"]
