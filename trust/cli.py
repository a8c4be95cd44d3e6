"""``xj trust`` and ``xj audit``: an owner's revocation, device key pairs, the audit chain.

- ``xj trust revoke VEHICLE_ID --reason TEXT [--db URL]``: delete the vehicle's stored history
  everywhere (every pseudonym it had within the retention horizon), keep only its keyed
  revocation tag so ingest drops its future messages, and audit it. Running platforms pick the
  revocation up within their refresh period.
- ``xj trust keygen [--algorithm ed25519|p256] --out KEY.pem``: a device key pair; the private
  key goes to the file (mode 600), the public key (PEM) to stdout, for
  ``POST /api/v1/devices/{id}/keys``.
- ``xj audit verify [--db URL]``: walk the audit chain; exit 1 naming the first entry that was
  edited, inserted or deleted.

The database comes from ``--db``, else ``XJ_DB`` / ``XJ_DATABASE_URL``. The pseudonym secret,
its rotation period and the retention horizon are the platform's settings (``XJ_*`` variables
and the ``XJ_CONFIG`` file, see :mod:`cloud.settings`): run it with the service's environment.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

Handler = Callable[[argparse.Namespace], int]


class _UserError(Exception):
    """A mistake the user can fix; printed as ``xj: error: ...``."""


def _db(args: argparse.Namespace) -> str:
    url: str | None = args.db or os.environ.get("XJ_DB") or os.environ.get("XJ_DATABASE_URL")
    if not url:
        raise _UserError("no database: pass --db URL or set XJ_DB")
    return url


def _revoke(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from cloud.settings import Settings
    from store.privacy import revoke_vehicle

    url = _db(args)
    try:
        settings = Settings.model_validate({"db": url})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise _UserError(f"platform settings: {problems}") from None
    except ValueError as exc:
        raise _UserError(str(exc)) from None
    if len(args.reason.strip()) < 3:
        raise _UserError("--reason: say why (at least 3 characters), e.g. 'owner withdrew consent, ticket 42'")
    keyed = settings.pseudonymizer()
    tag = keyed.revocation_tag(args.vehicle_id)
    entry = {
        "actor": args.by,
        "role": "cli",
        "action": "privacy.revoke",
        "target": tag,
        "reason": args.reason,
        "outcome": "revoked",
        "details": {"via": "xj trust revoke"},
    }
    with psycopg.connect(url, autocommit=True) as conn:
        done = revoke_vehicle(
            conn,
            keyed,
            args.vehicle_id,
            now=time.time(),
            horizon_s=settings.retention.policy().vehicle_horizon.total_seconds(),
            audit=entry,
        )
    rows = ", ".join(f"{t} {n}" for t, n in done.rows_deleted.items() if n)
    audit_seq = done.audit["seq"] if done.audit else "?"
    print(
        f"revoked: tag {done.tag}; {len(done.pseudonyms)} pseudonyms searched;"
        f" deleted {sum(done.rows_deleted.values())} rows ({rows or 'none stored'}); audit seq {audit_seq}"
    )
    return 0


def _keygen(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives import serialization

    from trust.signing import generate_key

    out = Path(args.out)
    if out.exists() and not args.force:
        raise _UserError(f"--out {out}: the file exists; pass --force to replace it")
    key = generate_key(args.algorithm)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pem)
    out.chmod(0o600)
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    sys.stdout.write(pub.decode("ascii"))
    print(f"private key ({args.algorithm}) written to {out}", file=sys.stderr)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from store.auditlog import verify

    with psycopg.connect(_db(args), autocommit=True) as conn:
        result = verify(conn)
    print(result.describe(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def _guarded(handler: Handler) -> Handler:
    def run(args: argparse.Namespace) -> int:
        if getattr(args, "db_verb", None):  # --db is accepted before or after the verb
            args.db = args.db_verb
        try:
            return handler(args)
        except _UserError as exc:
            print(f"xj: error: {exc}", file=sys.stderr)
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            print(f"xj: error: cannot reach the database ({first}); check --db / XJ_DB", file=sys.stderr)
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
            print(
                "xj: error: the database is not migrated (or predates the trust tables); run `xj store migrate` first",
                file=sys.stderr,
            )
        return 2

    return run


def _verb(verbs: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_: str) -> argparse.ArgumentParser:
    v = verbs.add_parser(name, help=help_)
    v.add_argument("--db", dest="db_verb", metavar="URL", help="database URL (default: $XJ_DB)")
    return v


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``xj trust ...`` and ``xj audit ...`` to the ``xj`` parser."""
    p = sub.add_parser("trust", help="privacy and device keys: revoke a vehicle, make a device key pair")
    p.add_argument("--db", help="database URL (default: $XJ_DB)")
    verbs = p.add_subparsers(dest="trust_command", metavar="VERB", required=True)

    r = _verb(verbs, "revoke", "an owner withdraws consent: delete the vehicle's history everywhere")
    r.add_argument("vehicle_id", help="the vehicle's real id (as its owner and OBU know it)")
    r.add_argument("--reason", required=True, help="why (audited), e.g. the owner's request number")
    r.add_argument("--by", default=getpass.getuser(), help="who acts (audited; default: the login name)")
    r.set_defaults(func=_guarded(_revoke))

    k = verbs.add_parser("keygen", help="a device signing key pair (private key to a file, public PEM to stdout)")
    k.add_argument("--algorithm", choices=("ed25519", "p256"), default="ed25519")
    k.add_argument("--out", required=True, help="file for the private key (PKCS#8 PEM, mode 600)")
    k.add_argument("--force", action="store_true", help="replace an existing file")
    k.set_defaults(func=_guarded(_keygen))

    a = sub.add_parser("audit", help="the tamper-evident audit log: verify its hash chain")
    a.add_argument("--db", help="database URL (default: $XJ_DB)")
    averbs = a.add_subparsers(dest="audit_command", metavar="VERB", required=True)
    v = _verb(averbs, "verify", "walk the chain; exit 1 naming the first edited or deleted entry")
    v.set_defaults(func=_guarded(_verify))
