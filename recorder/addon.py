"""mitmdump entry script for the shadowtape recorder (no logic here: see shadowtape.recorder).

    mitmdump -s recorder/addon.py --mode reverse:http://127.0.0.1:8080 \
        --set shadowtape_tapes=/var/lib/shadowtape/tapes

Needs shadowtape installed in the Python environment that runs mitmdump
(pip install shadowtape, or pip install -e . in a checkout). Without a checkout,
`python -m shadowtape.recorder_script` prints the path of the same script inside the package.
"""

from __future__ import annotations

from shadowtape.recorder import Recorder

addons = [Recorder()]
