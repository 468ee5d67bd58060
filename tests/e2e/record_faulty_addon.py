"""A mitmdump script: the Recorder with a writer chosen by SHADOWTAPE_TEST_WRITER.

Used by tests/e2e/test_record_failures.py to inject a writer that throws or stalls; the
factory runs in the recorder's worker process, which imports it from tests.record.
"""

from __future__ import annotations

import os

from shadowtape.record.addon import Recorder
from tests.record import writers

addons = [Recorder(writer_factory=getattr(writers, os.environ["SHADOWTAPE_TEST_WRITER"]))]
