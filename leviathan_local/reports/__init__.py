"""Status reports under `DOCS/status/`: the report as data (JSON schema beside it), its
markdown and SVG chart, the event log's window of a run, and the files on disk. It may import
the engine (processes) and everything below; the engine never imports it (a run's caller
passes ``reports.files.write_halt_report`` in ``RunOptions``).
"""
