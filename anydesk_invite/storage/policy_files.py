"""Custom client settings files (TOML): reading one and checking who may write it.

See docs/POLICY.md for the format; which files count, merging them and watching them for
changes live in policy_watch.py. The system-wide file may force permissions on or off; a
per-home file and one named by ADINVITE_POLICY may only restrict. A file that cannot be
trusted, read or understood fails closed: the result is a Policy with ``broken`` set.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tomllib
from collections.abc import Callable
from pathlib import Path

from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.policy import (
    AcceptFrom,
    DiscoveryMode,
    Override,
    Policy,
)
from anydesk_invite.core.wide_area import (
    DEFAULT_TTL,
    MAX_TTL,
    MIN_TTL,
    WideAreaError,
    WideAreaSettings,
    check_algorithm,
    check_domain,
    check_key_name,
    parse_server,
)

POLICY_FILE_MAX_BYTES = 64 * 1024
"""A policy file is a few lines; anything much larger is a mistake, refused unread."""

_OVERRIDES = ", ".join(o.value for o in Override)
_ACCEPT = ", ".join(a.key for a in AcceptFrom)
_DISCOVERY = ", ".join(d.key for d in DiscoveryMode)
_SECTIONS = ("permissions", "invitations", "discovery", "wide_area")
_WIDE_AREA_KEYS = ("enabled", "domain", "server", "key_name", "algorithm", "secret_file", "ttl")


class _Invalid(Exception):
    """One problem in a policy file, at the line of the key named by ``where``."""

    def __init__(self, where: tuple[str, ...], what: str) -> None:
        super().__init__(what)
        self.where = where
        self.what = what


def load_policy_file(path: Path, *, trusted: bool) -> Policy:
    """Read one policy file.

    A missing file is an empty policy. ``trusted`` marks the system-wide file: it must be
    owned by root and writable by no one else, or it is reported broken. An untrusted file
    may only restrict, so its ``force_on`` is read as ``default_on``.
    """
    try:
        data = _read(path, trusted=trusted)
    except FileNotFoundError:
        return Policy()
    except _Untrusted as exc:
        return Policy(broken=f"{path}: {exc}", sources=(str(path),))
    except OSError as exc:
        return Policy(broken=f"{path}: cannot read: {exc.strerror or exc}", sources=(str(path),))
    return parse_policy(data, str(path), trusted=trusted)


def parse_policy(data: bytes, name: str, *, trusted: bool) -> Policy:
    """Parse the bytes of a policy file; ``name`` is used in messages and as the source."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return Policy(broken=f"{name}:{line}: not UTF-8 text", sources=(name,))
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, what = _toml_error(str(exc), text)
        return Policy(broken=f"{name}:{line}: {what}", sources=(name,))
    try:
        return _policy_from(doc, name, trusted=trusted)
    except _Invalid as exc:
        return Policy(broken=f"{name}:{_line_of(text, exc.where)}: {exc.what}", sources=(name,))


class _Untrusted(Exception):
    """The system-wide file could be changed by someone other than root."""


def _read(path: Path, *, trusted: bool) -> bytes:
    # O_NOFOLLOW is not used: an admin may symlink the file; the checks below are on what
    # was opened (fstat), so the file cannot be swapped between checking and reading.
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        if trusted:
            _check_trusted(path, st)
        if st.st_size > POLICY_FILE_MAX_BYTES:
            raise OSError(errno.EFBIG, f"larger than {POLICY_FILE_MAX_BYTES} bytes")
        chunks = []
        size = 0
        while chunk := os.read(fd, 16384):
            size += len(chunk)
            if size > POLICY_FILE_MAX_BYTES:
                raise OSError(errno.EFBIG, f"larger than {POLICY_FILE_MAX_BYTES} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _check_trusted(path: Path, st: os.stat_result) -> None:
    if st.st_uid != 0:
        raise _Untrusted(f"not owned by root (owner uid {st.st_uid}), so it is not trusted")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise _Untrusted(
            f"writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}), "
            "so it is not trusted"
        )
    # Whoever can write the folder can replace the file.
    folder = path.parent
    dst = os.stat(folder)
    if dst.st_uid != 0 or dst.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise _Untrusted(f"its folder {folder} is writable by someone other than root")


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column \d+\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")


def _toml_error(message: str, text: str) -> tuple[int, str]:
    m = _TOML_POSITION.search(message)
    if m:
        return int(m.group(1)), "invalid TOML: " + message[: m.start()]
    m = _TOML_END.search(message)
    if m:
        return text.count("\n") + 1, "invalid TOML: " + message[: m.start()]
    return 1, "invalid TOML: " + message


def _policy_from(doc: dict[str, object], name: str, *, trusted: bool) -> Policy:
    for key in doc:
        if key not in _SECTIONS:
            raise _Invalid((key,), f"unknown section {key!r} (known: {', '.join(_SECTIONS)})")
    perms_table = _table(doc, "permissions")
    invitations = _table(doc, "invitations")
    discovery = _table(doc, "discovery")

    perms: dict[Permission, Override] = {}
    for key, value in perms_table.items():
        try:
            perm = Permission(key)
        except ValueError:
            known = ", ".join(p.value for p in Permission)
            raise _Invalid(
                ("permissions", key), f"unknown permission {key!r} (known: {known})"
            ) from None
        override = _override(value, ("permissions", key))
        if override is Override.FORCE_ON and not trusted:
            # Only the root-owned system file may grant; elsewhere this is a default.
            override = Override.DEFAULT_ON
        perms[perm] = override

    accept = AcceptFrom.EVERYONE
    for key, value in invitations.items():
        if key != "accept_from":
            raise _Invalid(("invitations", key), f"unknown key {key!r} (known: accept_from)")
        text = _string(value, ("invitations", key), _ACCEPT)
        try:
            accept = AcceptFrom[text.upper()]
        except KeyError:
            raise _Invalid(
                ("invitations", key), f"accept_from is one of {_ACCEPT} (not {text!r})"
            ) from None

    mode = DiscoveryMode.ON
    for key, value in discovery.items():
        if key != "mode":
            raise _Invalid(("discovery", key), f"unknown key {key!r} (known: mode)")
        text = _string(value, ("discovery", key), _DISCOVERY)
        try:
            mode = DiscoveryMode[text.upper()]
        except KeyError:
            raise _Invalid(
                ("discovery", key), f"mode is one of {_DISCOVERY} (not {text!r})"
            ) from None

    wide, secret_file, wide_allowed = _wide_area(_table(doc, "wide_area"), trusted=trusted)
    return Policy(
        permissions=perms,
        max_accept_from=accept,
        max_discovery=mode,
        sources=(name,),
        wide_area=wide,
        wide_area_secret_file=secret_file,
        wide_area_allowed=wide_allowed,
    )


def _wide_area(
    table: dict[str, object], *, trusted: bool
) -> tuple[WideAreaSettings | None, str, bool]:
    """The ``[wide_area]`` table: (settings or None, secret file, allowed)."""
    for key, value in table.items():
        where = ("wide_area", key)
        if key not in _WIDE_AREA_KEYS:
            raise _Invalid(where, f"unknown key {key!r} (known: {', '.join(_WIDE_AREA_KEYS)})")
        if key != "enabled" and not trusted:
            # Pointing clients at a DNS server and key is the system-wide file's alone.
            raise _Invalid(where, f"wide_area.{key} may be set only in the system-wide file")
        if key == "enabled" and not isinstance(value, bool):
            raise _Invalid(where, "wide_area.enabled must be true or false")
        if key == "ttl" and (not isinstance(value, int) or isinstance(value, bool)):
            raise _Invalid(where, "wide_area.ttl must be a whole number of seconds")
        if key not in ("enabled", "ttl") and not isinstance(value, str):
            raise _Invalid(where, f"wide_area.{key} must be a string")
    allowed = table.get("enabled", True) is not False
    if "server" not in table:
        for key in ("domain", "key_name", "algorithm", "secret_file", "ttl"):
            if key in table:
                raise _Invalid(("wide_area", key), "wide_area needs a server for the other keys")
        return None, "", allowed
    secret_file = str(table.get("secret_file", ""))
    if secret_file and not Path(secret_file).is_absolute():
        raise _Invalid(("wide_area", "secret_file"), "wide_area.secret_file must be absolute")
    ttl = table.get("ttl", DEFAULT_TTL)
    assert isinstance(ttl, int)
    checks: dict[str, Callable[[str], object]] = {
        "server": parse_server,
        "domain": check_domain,
        "key_name": check_key_name,
        "algorithm": check_algorithm,
    }
    for key, check in checks.items():
        if key in table:
            try:
                check(str(table[key]))
            except WideAreaError as exc:
                raise _Invalid(("wide_area", key), str(exc)) from None
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise _Invalid(("wide_area", "ttl"), f"wide_area.ttl is {MIN_TTL} to {MAX_TTL} seconds")
    try:
        settings = WideAreaSettings(
            domain=str(table.get("domain", "")),
            server=str(table["server"]),
            key_name=str(table.get("key_name", "")),
            algorithm=str(table.get("algorithm", "hmac-sha256")),
            ttl=ttl,
        ).checked()
    except WideAreaError as exc:
        raise _Invalid(("wide_area",), str(exc)) from None
    return settings, secret_file, allowed


def _table(doc: dict[str, object], key: str) -> dict[str, object]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise _Invalid((key,), f"{key} must be a table ([{key}])")
    return value


def _string(value: object, where: tuple[str, ...], choices: str) -> str:
    if not isinstance(value, str):
        raise _Invalid(where, f"{'.'.join(where)} must be a string, one of {choices}")
    return value


def _override(value: object, where: tuple[str, ...]) -> Override:
    text = _string(value, where, _OVERRIDES)
    try:
        return Override(text)
    except ValueError:
        raise _Invalid(where, f"{'.'.join(where)} is one of {_OVERRIDES} (not {text!r})") from None


# tomllib does not report positions of keys, so the line of a key is found by scanning the
# text: table headers set the current path, and each key line adds to it.
_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_PART_RE = r"""[A-Za-z0-9_-]+|"([^"]*)"|'([^']*)'"""
_KEY = re.compile(rf"^\s*((?:{_PART_RE})(?:\s*\.\s*(?:{_PART_RE}))*)\s*=")
_PART = re.compile(_PART_RE)


def _dotted(text: str) -> tuple[str, ...]:
    parts = []
    for m in _PART.finditer(text):
        quoted = m.group(1) if m.group(1) is not None else m.group(2)
        parts.append(quoted if quoted is not None else m.group(0))
    return tuple(parts)


def _line_of(text: str, where: tuple[str, ...]) -> int:
    """The first line that defines ``where`` or, failing that, the nearest enclosing key."""
    best: dict[int, int] = {}
    current: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        m = _HEADER.match(line)
        if m:
            current = _dotted(m.group(1))
            _note(best, current, where, number)
            continue
        m = _KEY.match(line)
        if m:
            _note(best, current + _dotted(m.group(1)), where, number)
    return best[max(best)] if best else 1


def _note(best: dict[int, int], path: tuple[str, ...], where: tuple[str, ...], line: int) -> None:
    # How much of ``where`` this line defines; the deepest match wins, the earliest on ties.
    depth = 0
    for a, b in zip(path, where, strict=False):
        if a != b:
            break
        depth += 1
    if depth and depth == min(len(path), len(where)):
        best.setdefault(depth, line)
