"""The whole test command: lint, types, layer contracts, migrations, then pytest.

Run through ``./run test``; stops at the first failing step and exits non-zero.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def step(title: str, *cmd: str, env: dict[str, str] | None = None) -> None:
    print(f"==> {title}", flush=True)
    result = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, check=False)
    if result.returncode != 0:
        print(f"FAILED: {title}", flush=True)
        sys.exit(result.returncode)


def main(pytest_args: list[str]) -> None:
    step("ruff check", str(BIN / "ruff"), "check", "src", "tests", "scripts")
    step("ruff format --check", str(BIN / "ruff"), "format", "--check", "src", "tests", "scripts")
    step("mypy --strict src", str(BIN / "mypy"))
    step("import contracts", str(BIN / "lint-imports"))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/check.db"
        step(
            "alembic check (models match migrations)",
            str(BIN / "fairslot"),
            "db",
            "check",
            env={"FAIRSLOT_DATABASE_URL": url},
        )
    workers = os.environ.get("FAIRSLOT_TEST_WORKERS", "2")
    step("pytest", str(BIN / "pytest"), "-n", workers, "-p", "no:cacheprovider", *pytest_args)


if __name__ == "__main__":
    main(sys.argv[1:])
