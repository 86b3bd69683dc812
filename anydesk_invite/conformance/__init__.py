"""Conformance runner: drives a peer over the wire through the rules of docs/PROTOCOL.md.

    python -m anydesk_invite.conformance HOST:PORT --fingerprint FP [--rule NAME]...

The runner is a dialler with fresh keys of its own (a new one per rule, so one rule's rate
limit or pending invitation cannot decide another's). It speaks frames directly, not through
this client's channel code, so it can send what a correct client never would. Each rule is a
row of the table under "Conformance rules" in PROTOCOL.md, named after the section that states
it; it prints ``PASS``, ``FAIL`` (with what came instead) or ``SKIP`` (with why) per rule and
exits 1 when any rule failed.

Rules marked *answer* need the peer to accept an invitation and a connection request: its user
accepts them while the runner waits (``--answer-timeout``), or the peer answers by itself (the
reference client started with ``--test-auto-accept``). ``--no-answer`` skips them.

The package: conn.py (one raw connection), table.py (the rule table and how rules run),
handshake_rules.py and session_rules.py (the rules, registered in the order of PROTOCOL.md's
table), cli.py (the command line).
"""

from __future__ import annotations

from anydesk_invite.conformance import handshake_rules, session_rules
from anydesk_invite.conformance.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from anydesk_invite.conformance.conn import Conn, Failed, Skipped, Target, connected
from anydesk_invite.conformance.handshake_rules import COLLIDING_KEYS
from anydesk_invite.conformance.session_rules import MAX_GUESTS
from anydesk_invite.conformance.table import RULES, Outcome, Rule, run, run_rule

__all__ = [
    "COLLIDING_KEYS",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "MAX_GUESTS",
    "RULES",
    "Conn",
    "Failed",
    "Outcome",
    "Rule",
    "Skipped",
    "Target",
    "connected",
    "handshake_rules",
    "main",
    "run",
    "run_rule",
    "session_rules",
]
