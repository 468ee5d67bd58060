"""Recording: live traffic through mitmproxy into sanitized tapes.

The modules, in the order a flow meets them:

- ``script``: the ``mitmdump -s`` entry (``python -m shadowtape.record.script`` prints its path);
- ``addon``: the mitmproxy addon, whose hooks only capture a flow and hand it off;
- ``options``: the one table of the recorder's options; ``values``: what their values mean;
- ``capture``: flow to Exchange, and the error-kind table (the mitm importer uses both);
- ``handoff``: the bounded queue off the proxy's loop, and the worker process behind it;
- ``worker``: what the worker runs: capture to Exchange, sanitized, to the tape writer;
- ``launcher`` and ``supervisor``: what ``shadowtape record`` checks and starts mitmdump
  with, and how it runs, watches and stops that process.

This package may import ``exchange``, ``sanitize`` and ``tape``; nothing that replays,
diffs or reports.
"""
