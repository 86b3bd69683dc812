"""The command line's argument checks: one argparse type per argument from outside, each
refusing bad input with a clear message (the parser is in cli_args.py)."""

from __future__ import annotations

import argparse
import ipaddress
import re
from collections.abc import Callable
from pathlib import Path

from anydesk_invite.core.alias import AliasError, parse_alias
from anydesk_invite.core.invitation import INVITATION_LIFETIME, MIN_TEST_LIFETIME
from anydesk_invite.core.permissions import PermissionError_, parse_permission
from anydesk_invite.core.policy import DiscoveryMode, parse_discovery_mode
from anydesk_invite.core.wide_area import (
    MAX_TTL,
    MIN_TTL,
    WideAreaError,
    check_algorithm,
    check_key_name,
)
from anydesk_invite.services.control_schema import (
    canonical_target,
    check_id_prefix,
    normalize_fingerprint,
    parse_host_port,
)

_TAG_RE = re.compile(r"[A-Za-z0-9-]{1,16}")


def _interface(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"takes a literal IP address such as 127.0.0.1 (not {text!r})"
        ) from None


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535 (not {text!r})")
    return value


def _discovery(text: str) -> DiscoveryMode:
    try:
        return parse_discovery_mode(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _lifetime(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not MIN_TEST_LIFETIME <= value <= INVITATION_LIFETIME:
        raise argparse.ArgumentTypeError(
            f"can only shorten the invitation lifetime: {MIN_TEST_LIFETIME:g} to "
            f"{INVITATION_LIFETIME:g} seconds (not {text!r})"
        )
    return value


def _instance_tag(text: str) -> str:
    if not _TAG_RE.fullmatch(text):
        raise argparse.ArgumentTypeError("is 1 to 16 letters, digits or '-'")
    return text


def _alias(text: str) -> str:
    try:
        return str(parse_alias(text))
    except AliasError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _folder(text: str) -> str:
    path = Path(text).expanduser()
    if not path.is_absolute():
        raise argparse.ArgumentTypeError("must be an absolute path")
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError("is not a folder")
    return str(path)


def _permission(text: str) -> str:
    try:
        return parse_permission(text).value
    except PermissionError_ as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _target(text: str) -> str:
    try:
        return canonical_target(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _host_port(text: str) -> str:
    try:
        return parse_host_port(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fingerprint(text: str) -> str:
    try:
        return normalize_fingerprint(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _id_of(what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        try:
            return check_id_prefix(text, what)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = f"{what} id"
    return parse


def _checked(check: Callable[[str], object], *, off: str | None = None) -> Callable[[str], str]:
    """An argument type from a wide-area check; ``off`` is a word that clears the setting."""

    def parse(text: str) -> str:
        if off is not None and text.strip().lower() == off:
            return ""
        try:
            check(text)
        except WideAreaError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text.strip()

    parse.__name__ = "setting"
    return parse


def _tsig_key(text: str) -> str:
    name, _, algorithm = text.partition(":")
    try:
        check_key_name(name)
        if algorithm:
            check_algorithm(algorithm)
    except WideAreaError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip()


def _ttl(text: str) -> int:
    if not text.isdigit() or not MIN_TTL <= int(text) <= MAX_TTL:
        raise argparse.ArgumentTypeError(f"is {MIN_TTL} to {MAX_TTL} seconds (not {text!r})")
    return int(text)


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.2 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"is 0.2 to 3600 seconds (not {text!r})")
    return value


def _secret_file(text: str) -> str:
    path = Path(text).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text!r} is not a file")
    return str(path.absolute())


def _profile(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("a profile needs a name")
    return text.strip()
