"""`python -m gateway.audit verify [--database-url URL | --file PATH] [--head HASH]`

Walks the stored audit chain and exits 1 at the first record that was edited, removed or reordered.
`--head` also checks the chain ends at a head hash recorded elsewhere (e.g. yesterday's report), which
catches records cut from the end.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.audit.store import AuditStore, SqliteAuditStore, open_store
from gateway.domain.audit import ChainBroken, verify_chain


def _store(args: argparse.Namespace) -> AuditStore:
    if args.file:
        return SqliteAuditStore(Path(args.file))
    from gateway.settings import get_settings

    settings = get_settings()
    url = args.database_url or (settings.audit_database_url.get_secret_value() if settings.audit_database_url else None)
    return open_store(url, settings.data_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.audit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="check the hash chain of every stored record")
    verify.add_argument("--database-url", help="PostgreSQL URL (default: PROMETEO_GATEWAY_AUDIT_DATABASE_URL)")
    verify.add_argument("--file", help="SQLite file (default: <PROMETEO_GATEWAY_DATA_DIR>/audit.sqlite3)")
    verify.add_argument("--head", help="the head hash the chain must end at")
    args = parser.parse_args(argv)

    store = _store(args)
    try:
        count, head = verify_chain(store.scan())
    except ChainBroken as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    if args.head and args.head != head:
        print(f"FAILED: the chain ends at {head}, not at the expected head {args.head}", file=sys.stderr)
        return 1
    print(f"ok: {count} records, head {head}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
