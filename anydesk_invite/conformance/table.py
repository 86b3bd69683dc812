"""The rule table: each rule a row of PROTOCOL.md's conformance table, registered by its
check, and how rules are run into PASS, FAIL or SKIP."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from anydesk_invite.conformance.conn import Failed, Skipped, Target
from anydesk_invite.net.identity import IdentityError


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of PROTOCOL.md's conformance table and the check that drives it."""

    name: str
    section: str
    check: Callable[[Target], Awaitable[None]]
    answer: bool = False
    """The peer (its user) must accept an invitation or a request."""


RULES: dict[str, Rule] = {}


def rule(
    name: str, section: str, *, answer: bool = False
) -> Callable[[Callable[[Target], Awaitable[None]]], Callable[[Target], Awaitable[None]]]:
    def register(
        check: Callable[[Target], Awaitable[None]],
    ) -> Callable[[Target], Awaitable[None]]:
        assert name not in RULES, name
        RULES[name] = Rule(name, section, check, answer)
        return check

    return register


@dataclass(frozen=True, slots=True)
class Outcome:
    rule: Rule
    verdict: str
    """PASS, FAIL or SKIP."""
    detail: str = ""

    def line(self) -> str:
        text = f"{self.verdict} {self.rule.name} ({self.rule.section})"
        return f"{text}: {self.detail}" if self.detail else text


async def run_rule(target: Target, r: Rule) -> Outcome:
    if r.answer and not target.answers:
        return Outcome(r, "SKIP", "needs the peer to accept (run without --no-answer)")
    try:
        await r.check(target)
    except Skipped as exc:
        return Outcome(r, "SKIP", str(exc))
    except Failed as exc:
        return Outcome(r, "FAIL", str(exc))
    except (OSError, ssl.SSLError, IdentityError) as exc:
        return Outcome(r, "FAIL", f"{type(exc).__name__}: {exc}")
    return Outcome(r, "PASS")


async def run(
    target: Target, names: Sequence[str] = (), out: Callable[[str], None] = print
) -> list[Outcome]:
    chosen = [RULES[n] for n in names] if names else list(RULES.values())
    outcomes = []
    for r in chosen:
        outcome = await run_rule(target, r)
        out(outcome.line())
        outcomes.append(outcome)
    return outcomes
