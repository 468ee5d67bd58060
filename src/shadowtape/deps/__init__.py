"""The deps proxy: a forward proxy for a service's outbound calls (``shadowtape deps``).

- ``modes``: record, mock, passthrough.
- ``faults``: the ``--fault`` grammar and which rule applies to a call.
- ``control``: runtime fault control: the ``--faults-file`` a running proxy re-reads, and
  ``write_faults`` / ``clear_faults`` to change it.
- ``mocks``: the recorded ``deps:*`` calls a mock answers from, read before the proxy starts.
- ``match``: the fallback order a live call is matched to recorded ones in.
- ``calls``: the calls log, one JSON line per call (what the ledger and attribution read).
- ``addon``: the mitmproxy addon (faults, then mocks, then the log) and the Recorder that
  records only what a dependency really answered; ``script`` loads both into mitmdump.
- ``launcher``: the checked command line mitmdump runs with (``record.supervisor`` runs it).
- ``beside``: a ``shadowtape deps`` child process beside each build ``replay`` launches
  (a ``builds.BuildEnvironment``), its variables in the build's environment.
"""
