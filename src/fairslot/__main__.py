"""``python -m fairslot``: the ``fairslot`` command (how the benchmark starts a server)."""

from fairslot.cli.main import app

app()
