"""Regenerate the message catalogue of docs/PROTOCOL.md and docs/protocol.schema.json.

    python scripts/protocol_doc.py           rewrite both from anydesk_invite/net/wire.py
    python scripts/protocol_doc.py --check   exit 1 (and say which) when either is stale

Only the text between ``<!-- catalogue: SECTION -->`` and ``<!-- /catalogue -->`` is
rewritten; the prose around it is written by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anydesk_invite.net import catalogue  # noqa: E402

DOC = ROOT / "docs" / "PROTOCOL.md"
SCHEMA = ROOT / "docs" / "protocol.schema.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    wanted = {
        DOC: catalogue.render_document(DOC.read_text(encoding="utf-8")),
        SCHEMA: catalogue.schema_text(),
    }
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text("utf-8") != text]
    if args.check:
        for p in stale:
            print(f"{p.relative_to(ROOT)} is stale: run python scripts/protocol_doc.py")
        return 1 if stale else 0
    for p in stale:
        p.write_text(wanted[p], encoding="utf-8")
        print(f"rewrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
