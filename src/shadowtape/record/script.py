"""The Recorder as a mitmproxy script: ``mitmdump -s PATH``, where PATH is this file.

``python -m shadowtape.record.script`` prints PATH, so an installed shadowtape needs no
checkout: ``mitmdump -s "$(python -m shadowtape.record.script)" --mode reverse:URL``.
It holds no logic: mitmproxy loads scripts under a private module name, so everything
lives in ``shadowtape.record.addon``, imported the normal way.
"""

from __future__ import annotations

from shadowtape.record.addon import Recorder

addons = [Recorder()]

if __name__ == "__main__":
    print(__file__)
