#!/usr/bin/env python3
"""Mosquitto credentials and configuration for Xiangjiang devices and the platform user.

Subcommands::

    credentials.py passwd --devices devices.txt --out DIR [--platform-user xj-platform]
        devices.txt: one device id per line, optionally followed by its password ("id password");
        blank lines and "#" comments are skipped. Writes DIR/passwd (Mosquitto password_file,
        PBKDF2-SHA512 "$7$" hashes, as mosquitto_passwd makes them) and DIR/secrets.tsv
        ("username<TAB>password" to provision the devices with), both mode 0600. Missing
        passwords are generated (128 random bits).

    credentials.py render --dir DIR [--port 1883] [--bind 0.0.0.0] [--no-persistence] [--user NAME]
        Prints mosquitto.conf (the one beside this script) with the listener and the paths of
        DIR/passwd and DIR/acl filled in; copy the acl beside it.

Only the standard library is used, so it runs on a broker host without the platform.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import secrets
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: The shipped broker configuration and ACL.
CONF = HERE / "mosquitto.conf"
ACL = HERE / "acl"
#: The platform's username in the ACL.
PLATFORM_USER = "xj-platform"
#: Mosquitto 2's default ("$7$101$..."). Generated passwords carry 128 random bits, so the
#: iteration count is not what protects them; it only costs the broker time on every connect.
ITERATIONS = 101
_BAD_NAME = re.compile(r"[:/+#\x00\s]")


def check_username(name: str) -> None:
    """Raise :class:`ValueError` unless ``name`` can be a device id, a username and a topic level."""
    if not name or _BAD_NAME.search(name):
        raise ValueError(f"username {name!r} is empty or holds one of ':', '/', '+', '#', NUL, space")


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """Mosquitto's ``$7$`` hash: PBKDF2-HMAC-SHA512 with a 12-byte salt, base64 fields."""
    salt = secrets.token_bytes(12) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def read_devices(text: str) -> dict[str, str | None]:
    """Parse a device list: ``id [password]`` per line; ``#`` comments and blank lines skipped."""
    out: dict[str, str | None] = {}
    for n, line in enumerate(text.splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) > 2:
            raise ValueError(f"line {n}: expected 'id [password]', got {line.strip()!r}")
        check_username(fields[0])
        out[fields[0]] = fields[1] if len(fields) == 2 else None
    return out


def make_credentials(devices: Mapping[str, str | None]) -> dict[str, str]:
    """Fill in a random password for every device that has none."""
    return {u: p if p else secrets.token_urlsafe(16) for u, p in devices.items()}


def password_file(creds: Mapping[str, str], *, iterations: int = ITERATIONS) -> str:
    """The text of a Mosquitto ``password_file`` for ``username -> password``."""
    for u in creds:
        check_username(u)
    return "".join(f"{u}:{hash_password(p, iterations=iterations)}\n" for u, p in creds.items())


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def write_credentials(creds: Mapping[str, str], out_dir: Path) -> tuple[Path, Path]:
    """Write ``out_dir/passwd`` and ``out_dir/secrets.tsv`` (mode 0600); returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    passwd, secrets_tsv = out_dir / "passwd", out_dir / "secrets.tsv"
    _write_private(passwd, password_file(creds))
    _write_private(secrets_tsv, "".join(f"{u}\t{p}\n" for u, p in creds.items()))
    return passwd, secrets_tsv


def render_config(
    *,
    password_file: Path,
    acl_file: Path,
    port: int = 1883,
    bind: str = "0.0.0.0",
    persistence: bool = True,
    run_as: str | None = None,
    conf: Path = CONF,
) -> str:
    """The shipped ``mosquitto.conf`` with listener, file paths and persistence set.

    ``run_as`` adds a ``user`` line (Mosquitto started as root otherwise drops to ``mosquitto``).
    """
    replace = {
        "listener": f"listener {port} {bind}",
        "password_file": f"password_file {password_file}",
        "acl_file": f"acl_file {acl_file}",
    }
    if not persistence:
        replace |= {"persistence": "persistence false", "persistence_location": "", "autosave_interval": ""}
    out = []
    for line in conf.read_text().splitlines():
        key = line.split(" ", 1)[0]
        out.append(replace.get(key, line))
    if run_as:
        out.append(f"user {run_as}")
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Mosquitto credentials and configuration for Xiangjiang")
    sub = ap.add_subparsers(dest="cmd", required=True)
    pw = sub.add_parser("passwd", help="password file + secrets for a device list")
    pw.add_argument("--devices", type=Path, required=True, help="file: one 'id [password]' per line")
    pw.add_argument("--out", type=Path, required=True, help="folder for passwd and secrets.tsv")
    pw.add_argument("--platform-user", default=PLATFORM_USER, help="also make this user (empty: none)")
    rd = sub.add_parser("render", help="print mosquitto.conf for a folder made by 'passwd'")
    rd.add_argument("--dir", type=Path, required=True)
    rd.add_argument("--port", type=int, default=1883)
    rd.add_argument("--bind", default="0.0.0.0")
    rd.add_argument("--no-persistence", action="store_true")
    rd.add_argument("--user", default=None, help="run the broker as this OS user")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "passwd":
            devices = read_devices(args.devices.read_text())
            if args.platform_user:
                devices.setdefault(args.platform_user, None)
            passwd, tsv = write_credentials(make_credentials(devices), args.out)
            print(f"wrote {passwd} and {tsv} for {len(devices)} users")
        else:
            d = args.dir.resolve()
            sys.stdout.write(
                render_config(
                    password_file=d / "passwd",
                    acl_file=d / "acl",
                    port=args.port,
                    bind=args.bind,
                    persistence=not args.no_persistence,
                    run_as=args.user,
                )
            )
    except (OSError, ValueError) as exc:
        print(f"credentials.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
