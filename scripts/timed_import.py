"""Print the seconds one import statement takes on top of the bare script's libraries.

    python timed_import.py "pandera.pandas, matplotlib.figure"

For benchmark.py: what ``train`` loads beyond the bare baseline is the part of the gap
between them that no change to the pipeline can remove.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bare_train  # noqa: F401 - loads the bare script's libraries, untimed


def main(names: str) -> None:
    start = time.perf_counter()
    for name in names.split(","):
        importlib.import_module(name.strip())
    print(time.perf_counter() - start)


if __name__ == "__main__":
    main(sys.argv[1])
