"""Every refusal a person can read says what happened in plain words, without internal ids.

Walks every refusal the other side can send, every state an invitation can be in when an
action is refused, the reasons an invitation fails with, and every refusal raised anywhere in
the program (read from the source, so a new one is checked the day it is written): none shows
a fingerprint in raw hex, an enum's name or wire code, an exception's class name, a
command-line option or a Python repr.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from anydesk_invite.core.clock import ManualClock
from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import (
    GUEST_LATE,
    REFUSAL_TEXTS,
    WRONG_DEVICE,
    IncomingInvitation,
    InvitationRefused,
    Kind,
    OutgoingInvitation,
    Peer,
    Refusal,
    State,
    state_text,
)
from anydesk_invite.core.permissions import Permission
from anydesk_invite.services import invitations
from anydesk_invite.services.refusals import RefusalKind

PACKAGE = Path(__file__).resolve().parents[1] / "anydesk_invite"

INTERNAL = re.compile(
    r"[0-9a-fA-F]{8,}"  # a fingerprint, token or invitation id in hex
    r"|--[a-z]"  # a command-line option
    r"|Traceback|File \""  # stack text
    r"|\b[a-z]+_[a-z_]+\b"  # a wire code or identifier: not_pending, stale_revision
    r"|\b(?:State|Refusal|RefusalKind|Kind|Permission|TransferState)\.[A-Z]"
    r"|\b[A-Z][A-Za-z]*(?:Error|Exception|Refused)\b"  # an exception's class
    r"|\b(?:None|True|False)\b|b'|\\x"  # Python values
)


def internal_markers(text: str) -> list[str]:
    return [m.group(0) for m in INTERNAL.finditer(text)]


def test_the_check_finds_what_it_is_for() -> None:
    for bad in (
        "confirm with --confirm c76abc0011223344",
        "the invitation is not_pending",
        "State.EXPIRED",
        "could not connect: ConnectionRefusedError",
        "Traceback (most recent call last)",
        "got None",
    ):
        assert internal_markers(bad), bad
    assert not internal_markers("ben@ad cannot be reached: is it running and on this network?")
    assert not internal_markers("ID 123 456 789 with fingerprint 1A2B 3C4D 5E6F 7A8B")


@pytest.mark.parametrize("refusal", list(Refusal))
def test_every_refusal_from_the_other_side_reads_as_words(refusal: Refusal) -> None:
    text = REFUSAL_TEXTS[refusal]
    assert internal_markers(text) == []
    assert refusal.value not in text or " " not in refusal.value
    assert str(InvitationRefused(refusal)) == text


@pytest.mark.parametrize("state", list(State))
def test_every_state_an_action_is_refused_in_reads_as_words(state: State) -> None:
    text = state_text(state)
    assert internal_markers(text) == []
    assert len(text.split()) >= 4  # a sentence, not the state's name


GUEST_FP = bytes(range(32))
GUEST = Peer(GUEST_FP, DeviceId.from_fingerprint(GUEST_FP), "guest@ad")


def _outgoing_in(state: State, clock: ManualClock) -> OutgoingInvitation:
    inv = OutgoingInvitation(b"i" * 16, Kind.INVITATION, GUEST, frozenset(), clock.now())
    inv.state = state
    return inv


def _incoming_in(state: State, clock: ManualClock) -> IncomingInvitation:
    inv = IncomingInvitation.received(
        b"i" * 16, Kind.INVITATION, GUEST, frozenset(), 1, 120.0, clock.now()
    )
    inv.state = state
    return inv


def _refusals(clock: ManualClock) -> Iterator[tuple[str, Callable[[], object]]]:
    now = clock.now()
    perms = frozenset({Permission.CONTROL})
    for state in State:
        out = _outgoing_in(state, clock)
        yield f"edit {state}", lambda out=out: out.edit(perms, now)
        yield f"cancel {state}", lambda out=out: out.cancel(now)
        yield f"accept {state}", lambda out=out: out.on_accept(out.revision + 1, now, b"t" * 32)
        inc = _incoming_in(state, clock)
        yield f"begin accept {state}", lambda inc=inc: inc.begin_accept(now)
        yield f"reject {state}", lambda inc=inc: inc.reject(now)
    request = OutgoingInvitation(b"r" * 16, Kind.REQUEST, GUEST, frozenset(), now)
    yield "edit a request", lambda: request.edit(perms, now)


def test_every_refused_action_on_an_invitation_in_every_state_reads_as_words() -> None:
    clock = ManualClock()
    seen = 0
    for what, action in _refusals(clock):
        try:
            action()
        except InvitationRefused as refused:
            seen += 1
            assert internal_markers(str(refused)) == [], what
    assert seen > 30


def test_the_reasons_an_invitation_fails_with_read_as_words() -> None:
    reasons = [GUEST_LATE, WRONG_DEVICE, *REFUSAL_TEXTS.values()]
    reasons += [
        v for k, v in vars(invitations).items() if k.isupper() and isinstance(v, str) and " " in v
    ]
    for reason in reasons:
        assert internal_markers(reason) == [], reason


REFUSING_CALLS = {"RefusedWithKind", "ActionRefused", "InvitationRefused", "fail"}


def _refusal_calls() -> Iterator[tuple[str, ast.Call]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in REFUSING_CALLS:
                yield f"{path.relative_to(PACKAGE.parent)}:{node.lineno}", node


def _problems(call: ast.Call) -> Iterator[str]:
    for arg in call.args:
        for sub in ast.walk(arg):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                yield from internal_markers(sub.value)
            elif isinstance(sub, ast.FormattedValue):
                shown = ast.unparse(sub.value)
                if sub.conversion == ord("r"):
                    yield f"repr of {shown}"
                if "hex(" in shown or shown.endswith((".value", ".state", ".kind")):
                    yield f"internal value {shown}"


def test_every_refusal_in_the_program_reads_as_words_and_every_kind_is_walked() -> None:
    kinds: set[str] = set()
    found = 0
    for where, call in _refusal_calls():
        found += 1
        assert list(_problems(call)) == [], where
        for sub in ast.walk(call):
            if isinstance(sub, ast.Attribute) and ast.unparse(sub.value) == "RefusalKind":
                kinds.add(sub.attr)
    assert found > 60
    assert kinds == {k.name for k in RefusalKind}
