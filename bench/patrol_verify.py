"""What the index manager's patrol page spends checking the audit trail: only what is new, against the whole.

The trail is filled with N look-up entries (real appends: keyed, chained, encrypted), then:
  whole trail   index/audit.py verify(): every entry read, decrypted and checked (what the patrol page
                did on every view before, and what the nightly `index verify-audit` still does);
  since last    index/audit.py verify_new(): after a first check, K more look-ups, then the check the
                patrol page now makes on a view: the K new entries (and each chain's last checked entry).

    .venv/bin/python bench/patrol_verify.py                   # 20,000 entries, 20 new
    .venv/bin/python bench/patrol_verify.py --entries 100000
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--new", type=int, default=20)
    args = parser.parse_args()
    from guide.audit_chain import attach_audit, make_audit_setup
    from guide.crypto import KeyRing, new_key
    from guide.db import make_engine, migrate
    from guide.index.audit import append, verify, verify_new

    folder = Path(tempfile.mkdtemp(prefix="guide-patrol-bench-"))
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    keyring = KeyRing([new_key()])
    migrate(url, keyring)
    engine = make_engine(url, keyring)
    attach_audit(engine, make_audit_setup(folder, url, base64.urlsafe_b64encode(os.urandom(32)).decode(),
                                          str(folder / "checkpoints")))
    os.environ.setdefault("GUIDE_CHEAP_PASSWORD_HASHING", "1")
    from guide.accounts.users import create_user
    from guide.db import make_sessionmaker
    session = make_sessionmaker(engine)()
    for n in range(64):
        create_user(session, email=f"u{n}@bench.example", name=f"User {n}", role="practitioner", agency="Bench",
                    password="a long enough password")
    session.commit()
    session.close()
    began = time.perf_counter()
    for n in range(args.entries):
        append(engine, user_id=1 + n % 64, action="lookup", child_id=n, reason="assessment",
               reason_text="Made-up words for a benchmark.", detail={"criteria": {"upn": f"B{n:012d}"}, "found": "one"})
    print(f"{args.entries} entries appended in {time.perf_counter() - began:.1f} s")

    began = time.perf_counter()
    checked, broken, _ = verify(engine)
    whole = time.perf_counter() - began
    verify_new(engine)  # the first view: everything, once
    for n in range(args.new):
        append(engine, user_id=1 + n % 64, action="lookup", child_id=n, reason="assessment",
               reason_text="Made-up words for a benchmark.", detail={"found": "one"})
    began = time.perf_counter()
    new_checked, new_broken, _ = verify_new(engine)
    since = time.perf_counter() - began
    print(f"whole trail:  {checked} entries checked in {whole * 1000:.0f} ms ({'intact' if broken is None else 'BROKEN'})")
    print(f"since last:   {new_checked} entries checked in {since * 1000:.1f} ms "
          f"({'intact' if new_broken is None else 'BROKEN'})")
    print(f"a patrol view's check now costs {since / whole:.4f}x the whole-trail check ({whole / since:.0f}x less)")
    engine.dispose()
    import shutil
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
