"""How key rotation grows with the size of the children's index: it should be linear.

For each size (default 20,000 and 80,000 synthetic children, guide/index/synthetic.py), a new
SQLite database is migrated and filled under key OLD, then `guide.key_rotation.rotate` re-encrypts
everything under NEW (keyring NEW,OLD), as `flask --app guide keys rotate` does. It prints the
time per size, rows per second, and the ratio of the largest size's time to the smallest's
against the ratio of their sizes (linear: the two ratios match; quadratic: the time ratio is the
size ratio squared).

    .venv/bin/python bench/key_rotation.py                       # 20,000 and 80,000 children
    .venv/bin/python bench/key_rotation.py --children 5000 20000 # a quick look

Everything is made in a temporary directory and deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

from measure import cpu_model, version  # noqa: E402

from guide.crypto import KeyRing, new_key  # noqa: E402
from guide.db import make_engine, migrate  # noqa: E402
from guide.index.synthetic import generate  # noqa: E402
from guide.key_rotation import rotate, status  # noqa: E402
from guide.db import Base  # noqa: E402
import guide.models  # noqa: E402,F401  (fills Base.metadata)


def one_size(directory: Path, children: int) -> tuple[float, int]:
    old, new = new_key(), new_key()
    url = f"sqlite:///{directory / f'rotate-{children}.sqlite3'}"
    migrate(url, KeyRing([old]))
    generate(make_engine(url, KeyRing([old])), children, seed=children)
    engine = make_engine(url, KeyRing([new, old]))
    started = time.perf_counter()
    changed = rotate(engine, Base.metadata, KeyRing([new, old]))
    seconds = time.perf_counter() - started
    left = sum(tally[key] for tally in status(engine, Base.metadata).values()
               for key in tally if key != KeyRing([new]).primary_id)
    assert left == 0, f"{left} values still under the old key"
    engine.dispose()
    return seconds, changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--children", type=int, nargs="+", default=[20_000, 80_000])
    args = parser.parse_args()
    print("== key rotation benchmark ==")
    print(f"cpu          {cpu_model()}; loadavg={' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"packages     sqlalchemy {version('sqlalchemy')}, cryptography {version('cryptography')}")
    directory = Path(tempfile.mkdtemp(prefix="guide-rotate-"))
    try:
        results = []
        for children in sorted(args.children):
            seconds, changed = one_size(directory, children)
            results.append((children, seconds, changed))
            print(f"{children:>9,} children  {changed:>9,} rows re-encrypted  {seconds:8.2f} s  "
                  f"{changed / seconds:9,.0f} rows/s", flush=True)
        if len(results) > 1:
            (small, t_small, _), (large, t_large, _) = results[0], results[-1]
            size_ratio, time_ratio = large / small, t_large / t_small
            print(f"\nGoal: linear. {large:,} / {small:,} children = {size_ratio:.1f}x the rows; "
                  f"time {time_ratio:.1f}x (quadratic would be {size_ratio ** 2:.0f}x) -> "
                  f"{'linear' if time_ratio <= size_ratio * 1.5 else 'NOT linear'} "
                  f"(time ratio / size ratio = {time_ratio / size_ratio:.2f})")
        print(f"loadavg at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
