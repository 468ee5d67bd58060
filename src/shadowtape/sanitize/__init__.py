"""Sanitizing: secrets are replaced by keyed pseudonyms before anything is stored.

``Sanitizer`` is the entry point (see docs/sanitizing.md). The modules, one idea each:
``rules`` (defaults, the TOML rules file, the allow-list), ``names`` (which names look
secret), ``detectors`` (what a secret looks like in text), ``pseudonym`` (keyed,
format-preserving replacements), ``context`` (one call's state), ``headers``, ``urls``,
``bodies``, ``jsonbody``, ``multipart``, ``textfields`` (where secrets are found) and
``sanitizer`` (the steps, in order).
"""

from __future__ import annotations

from shadowtape.sanitize.rules import Rules, TextPattern
from shadowtape.sanitize.sanitizer import ENV_KEY, Sanitizer

__all__ = ["ENV_KEY", "Rules", "Sanitizer", "TextPattern"]
