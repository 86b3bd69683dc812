"""The session service's dispatch table: built from the features, one feature per message."""

from __future__ import annotations

import pytest

from anydesk_invite.core.clock import ManualClock
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.sysinfo import SystemInformation
from anydesk_invite.net.wire import (
    Chat,
    ClipboardText,
    DrawClear,
    DrawStroke,
    FileCancel,
    FileOffer,
    KeyInput,
    PointerPosition,
    Refused,
    SysInfoRequest,
)
from anydesk_invite.services.sessions.chat import SessionChat
from anydesk_invite.services.sessions.dispatch import _table
from anydesk_invite.services.sessions.feature_set import SessionFeatures


class NoInfo:
    def system_information(self) -> SystemInformation:
        return SystemInformation("os", "host", "cpu", 1, 1, ())


def features() -> SessionFeatures:
    return SessionFeatures.build(ManualClock(), NoInfo())


def test_every_guest_message_has_exactly_one_feature() -> None:
    table = _table(features().in_order(), lambda f: f.from_guest)
    assert table[Chat].name == "chat"
    assert table[KeyInput].name == "control"
    assert table[DrawStroke].name == "draw"
    assert table[FileOffer].name == "files"
    assert table[ClipboardText].name == "clipboard"
    assert table[SysInfoRequest].name == "system_info"
    assert Refused not in table  # a host's refusal goes to the feature it names


def test_two_features_taking_one_message_is_refused_when_the_table_is_built() -> None:
    with pytest.raises(ValueError, match="Chat is taken by chat and chat"):
        _table((SessionChat(ManualClock()), SessionChat(ManualClock())), lambda f: f.from_guest)


@pytest.mark.parametrize(
    ("message", "gated"),
    [
        (KeyInput("KeyA", "a", True, frozenset()), True),
        (PointerPosition(0, 1, 1), False),
        (DrawStroke(1, 0, 0, [(1, 1)]), True),
        (DrawClear(), False),
        (FileOffer(b"t" * 16, "a.txt", 1), True),
        (FileCancel(b"t" * 16, "no"), False),
    ],
)
def test_what_the_gate_holds_behind_a_permission(message: object, gated: bool) -> None:
    table = _table(features().in_order(), lambda f: f.from_guest)
    feature = table[type(message)]  # type: ignore[index]
    assert feature.permission in set(Permission)
    assert feature.gated(message) is gated  # type: ignore[arg-type]
