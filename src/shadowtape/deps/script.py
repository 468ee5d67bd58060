"""The deps proxy as a mitmproxy script: ``mitmdump --mode regular -s PATH``.

It holds no logic (mitmproxy loads scripts under a private module name): the faults,
mocks and calls log live in ``shadowtape.deps.addon``; recording is the Recorder's,
switched on by ``shadowtape_tapes`` in record mode only.
"""

from __future__ import annotations

from shadowtape.deps.addon import DepsProxy, DepsRecorder

addons = [DepsProxy(), DepsRecorder()]

if __name__ == "__main__":
    print(__file__)
