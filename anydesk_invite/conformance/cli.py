"""The runner's command line: python -m anydesk_invite.conformance HOST:PORT --fingerprint FP."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TextIO

from anydesk_invite.conformance.conn import Target
from anydesk_invite.conformance.table import RULES, run

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def _fingerprint(text: str) -> bytes:
    digits = "".join(text.replace(":", " ").split()).lower()
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise argparse.ArgumentTypeError("a fingerprint is 64 hex digits (spaces, colons allowed)")
    return raw


def _rule_name(text: str) -> str:
    if text not in RULES:
        raise argparse.ArgumentTypeError(f"unknown rule {text!r}; known: {', '.join(RULES)}")
    return text


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m anydesk_invite.conformance",
        description="Drive a peer through the rules of docs/PROTOCOL.md; PASS/FAIL per rule.",
    )
    parser.add_argument("address", type=_address, metavar="HOST:PORT", nargs="?")
    parser.add_argument("--fingerprint", type=_fingerprint, metavar="FP")
    parser.add_argument("--rule", type=_rule_name, action="append", default=[], metavar="NAME")
    parser.add_argument("--list", action="store_true", help="list the rules and exit")
    parser.add_argument(
        "--no-answer", action="store_true", help="skip the rules the peer's user must accept"
    )
    parser.add_argument("--answer-timeout", type=float, default=30.0, metavar="SECONDS")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS")
    try:
        ns = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    if ns.list:
        for r in RULES.values():
            print(f"{r.name}\t{r.section}{' (answer)' if r.answer else ''}", file=out)
        return EXIT_OK
    if ns.address is None or ns.fingerprint is None:
        print(f"{parser.prog}: HOST:PORT and --fingerprint FP are required", file=sys.stderr)
        return EXIT_USAGE
    host, port = ns.address

    def say(text: str) -> None:
        print(f"... at the peer: {text}", file=out, flush=True)

    target = Target(
        host,
        port,
        ns.fingerprint,
        answers=not ns.no_answer,
        answer_timeout=ns.answer_timeout,
        timeout=ns.timeout,
        say=say,
    )
    outcomes = asyncio.run(run(target, ns.rule, out=lambda line: print(line, file=out, flush=True)))
    counts = {v: sum(o.verdict == v for o in outcomes) for v in ("PASS", "FAIL", "SKIP")}
    print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped", file=out)
    return EXIT_FAILED if counts["FAIL"] else EXIT_OK
