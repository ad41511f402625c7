"""``python -m bench``: run every benchmark module in this package, in turn."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    failures = 0
    for module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        bench = importlib.import_module(f"bench.{module.name}")
        run = getattr(bench, "main", None)
        if run is None:
            continue
        failures += 1 if run([]) else 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
