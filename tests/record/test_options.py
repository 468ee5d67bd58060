"""The one option table: mitmproxy's declarations and `shadowtape record`'s flags agree with it."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # mitmproxy 12.2's flowfilter still calls pyparsing's deprecated camelCase API on import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from mitmproxy.test import taddons

from shadowtape.cli import build_parser
from shadowtape.record.addon import Recorder
from shadowtape.record.options import FILTER_OPTIONS, FLAGS, OPTIONS, WORKER_OPTIONS


def test_the_addon_declares_every_option_of_the_table_with_its_default() -> None:
    recorder = Recorder()
    with taddons.context(recorder) as tctx:
        names = set(tctx.options.keys())
        declared = {name for name in names if name.startswith("shadowtape_")}
        assert declared == {o.name for o in OPTIONS}
        for o in OPTIONS:
            assert getattr(tctx.options, o.name) == o.default, o.name
        recorder.done()


def test_the_command_offers_a_flag_with_the_same_default_for_each_flagged_option() -> None:
    parser = build_parser()
    args = parser.parse_args(["record", "--upstream", "http://127.0.0.1:1", "--tapes", "t"])
    for o in OPTIONS:
        if o.flag is not None and not o.flag.required:
            assert getattr(args, o.flag.dest) == o.default, o.flag.name
    assert set(FLAGS) == {o.name for o in OPTIONS if o.flag is not None}


def test_a_change_rebuilds_the_worker_or_the_filter_never_both() -> None:
    assert not WORKER_OPTIONS & FILTER_OPTIONS
    assert {"shadowtape_tapes", "shadowtape_max_body"} <= WORKER_OPTIONS
    assert {"shadowtape_sample", "shadowtape_include_host"} <= FILTER_OPTIONS
