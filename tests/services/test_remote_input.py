"""Remote control between whole clients over in-memory channels: input reaches the host's sink
only while CONTROL is granted, held keys and buttons are released on revoke, a flood is
dropped, and a host that cannot inject says so."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.screen import frame_point
from anydesk_invite.net.wire import (
    KeyInput,
    PointerButton,
    PointerMove,
    PointerPosition,
    PointerWheel,
    Refused,
    Unavailable,
)
from anydesk_invite.services.facade import RemoteControl
from anydesk_invite.services.sessions.remote_input import BURST, POSITION_INTERVAL
from anydesk_invite.services.views import PointerSeen, SessionView
from tests.helpers.nodes import Node, Nodes, Recorder, eventually, nodes_for
from tests.helpers.raw_guest import RawGuest
from tests.helpers.recording_input import RecordingInput

CONTROL = frozenset({Permission.CONTROL})
NOTHING: frozenset[Permission] = frozenset()


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


async def controlled(
    nodes: Nodes, permissions: frozenset[Permission], sink: RecordingInput | None = None
) -> tuple[Node, Node, SessionView, RemoteControl, RecordingInput]:
    """Anna hosts (with a recording sink) and ben is her guest with these permissions."""
    sink = sink if sink is not None else RecordingInput()
    anna = await nodes.make("anna", input_sink=sink)
    ben = await nodes.make("ben")
    anna.knows(ben)
    ben.knows(anna)
    sent = await anna.client.invite(ben.device_id, permissions, "")
    await ben.received.wait()
    guest = await ben.client.accept(sent.invitation_id)
    await eventually(lambda: len(anna.client.sessions()) == 1)
    [host] = anna.client.sessions()
    control = ben.client.session_handle(guest.session_id).control
    assert control is not None
    return anna, ben, host, control, sink


# --- coordinate mapping ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ((100, 50), (0, 0)),  # the frame's top-left corner
        ((580, 320), (1920, 1080)),  # just past the bottom-right: clamped onto the last pixel
        ((340, 185), (960, 540)),  # the middle
        ((99, 50), None),  # left of the frame (the letterbox)
        ((340, 321), None),  # below it
    ],
)
def test_view_points_map_to_host_frame_pixels(
    point: tuple[int, int], expected: tuple[int, int] | None
) -> None:
    # A 1920x1080 frame shown at 480x270 from (100, 50): one view pixel is four frame pixels.
    got = frame_point(point[0], point[1], (100, 50, 480, 270), 1920, 1080)
    if expected == (1920, 1080):
        assert frame_point(579.9, 319.9, (100, 50, 480, 270), 1920, 1080) == (1919, 1079)
        assert got is None
    else:
        assert got == expected


def test_an_empty_frame_maps_nothing() -> None:
    assert frame_point(5, 5, (0, 0, 0, 0), 1920, 1080) is None
    assert frame_point(5, 5, (0, 0, 100, 100), 0, 0) is None


# --- control granted ------------------------------------------------------------------------


async def test_guest_input_reaches_the_host_in_order_while_control_is_granted(
    nodes: Nodes,
) -> None:
    _, _, _, control, sink = await controlled(nodes, CONTROL)
    assert control.usable()
    control.move(0, 10, 20)
    control.button(0, 11, 21, "left", True)
    control.button(0, 12, 22, "left", False)
    control.key("ShiftLeft", "Shift", True, frozenset())
    control.key("KeyA", "A", True, frozenset({"shift"}))
    control.key("KeyA", "A", False, frozenset({"shift"}))
    control.key("ShiftLeft", "Shift", False, frozenset())
    control.wheel(0, -240)
    await eventually(lambda: len(sink.events) >= 10)
    assert sink.events == [
        ("move", 0, 10, 20),
        ("move", 0, 11, 21),
        ("button", "left", True),
        ("move", 0, 12, 22),
        ("button", "left", False),
        ("key", "ShiftLeft", "Shift", True),
        ("key", "KeyA", "A", True),
        ("key", "KeyA", "A", False),
        ("key", "ShiftLeft", "Shift", False),
        ("scroll", 0, 2),  # two notches towards the user: down
    ]


async def test_wheel_deltas_smaller_than_a_notch_add_up(nodes: Nodes) -> None:
    _, _, _, control, sink = await controlled(nodes, CONTROL)
    for _ in range(3):
        control.wheel(0, 40)  # a high-resolution wheel: a third of a notch each
    control.key("KeyQ", "q", True, frozenset())
    await eventually(lambda: ("key", "KeyQ", "q", True) in sink.events)
    assert [e for e in sink.events if e[0] == "scroll"] == [("scroll", 0, -1)]


async def test_a_key_the_host_cannot_press_is_not_held(nodes: Nodes) -> None:
    sink = RecordingInput(known=frozenset({"KeyA"}))
    anna, _, host, control, _ = await controlled(nodes, CONTROL, sink)
    control.key("Unidentified", "€", True, frozenset())
    control.key("KeyA", "a", True, frozenset())
    await eventually(lambda: len(sink.events) == 1)
    held_keys, _ = anna.features.remote_input.held(host.session_id)
    assert held_keys == {"KeyA"}


# --- control not granted --------------------------------------------------------------------


async def test_raw_input_without_control_injects_nothing_and_is_refused_and_logged(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben, host, _, sink = await controlled(nodes, NOTHING)
    raw = RawGuest(ben, ben.client.sessions()[0].session_id)
    with caplog.at_level(logging.WARNING, "anydesk_invite.services.sessions.remote_input"):
        await raw.send(PointerMove(0, 5, 5))
        refused = await raw.expect(Refused)
        await raw.send(PointerButton(0, 5, 5, "left", True))
        await raw.send(KeyInput("KeyA", "a", True))
        await raw.send(PointerWheel(0, 120))
        # A position is always allowed: once it is through, every message before it was handled.
        seen = Recorder(anna.client.pointer_seen)
        await raw.send(PointerPosition(0, 7, 8))
        assert await seen.wait() == PointerSeen(host.session_id, 0, 7, 8, True)
    assert refused == Refused(what="control", reason="not permitted")
    assert sink.events == []
    assert any("refused PointerMove" in r.getMessage() for r in caplog.records)


async def test_without_control_the_guest_sends_only_its_pointer_position_for_the_marker(
    nodes: Nodes,
) -> None:
    anna, ben, host, control, sink = await controlled(nodes, NOTHING)
    seen = Recorder(anna.client.pointer_seen)
    assert not control.usable()
    assert control.button(0, 1, 1, "left", True) is False
    assert control.key("KeyA", "a", True, frozenset()) is False
    assert control.wheel(0, 120) is False
    control.move(0, 100, 200)
    control.move(0, 101, 201)  # within POSITION_INTERVAL: not sent
    await seen.wait()
    ben.clock.advance(POSITION_INTERVAL * 1.5)
    anna.clock.advance(POSITION_INTERVAL * 1.5)
    control.move(0, 300, 400)
    assert await seen.wait(2) == PointerSeen(host.session_id, 0, 300, 400, True)
    assert [(p.x, p.y) for p in seen.items] == [(100, 200), (300, 400)]
    control.leave()
    assert (await seen.wait(3)).inside is False
    assert sink.events == []


async def test_granting_control_hides_the_marker_and_input_flows(nodes: Nodes) -> None:
    anna, _ben, host, control, sink = await controlled(nodes, NOTHING)
    seen = Recorder(anna.client.pointer_seen)
    control.move(0, 1, 2)
    await seen.wait()
    await anna.client.set_session_permissions(host.session_id, CONTROL)
    assert (await seen.wait(2)).inside is False
    await eventually(control.usable)
    control.move(0, 3, 4)
    await eventually(lambda: sink.events == [("move", 0, 3, 4)])


# --- revoking and ending ----------------------------------------------------------------------


@pytest.mark.parametrize("how", ["revoke", "end"])
async def test_revoking_control_or_ending_mid_press_releases_everything_held(
    nodes: Nodes, how: str
) -> None:
    anna, ben, host, control, sink = await controlled(nodes, CONTROL)
    control.key("ControlLeft", "Control", True, frozenset())
    control.key("KeyC", "c", True, frozenset({"control"}))
    control.button(0, 50, 60, "right", True)
    await eventually(lambda: len(sink.events) == 4)
    assert sink.held_keys() == {"ControlLeft", "KeyC"} and sink.held_buttons() == {"right"}
    if how == "revoke":
        await anna.client.set_session_permissions(host.session_id, NOTHING)
    else:
        await ben.client.end_session(host.session_id)
        await eventually(lambda: anna.client.sessions() == [])
    await eventually(lambda: not sink.held_keys() and not sink.held_buttons())
    assert anna.features.remote_input.held(host.session_id) == (set(), set())


async def test_a_release_sent_after_the_revoke_is_not_injected_twice(nodes: Nodes) -> None:
    anna, ben, host, control, sink = await controlled(nodes, CONTROL)
    control.key("KeyZ", "z", True, frozenset())
    await eventually(lambda: len(sink.events) == 1)
    await anna.client.set_session_permissions(host.session_id, NOTHING)
    await eventually(lambda: not sink.held_keys())
    raw = RawGuest(ben, host.session_id)
    await raw.send(KeyInput("KeyZ", "z", False))
    await raw.expect(Refused)
    assert sink.events == [("key", "KeyZ", "z", True), ("key", "KeyZ", "z", False)]


# --- floods -------------------------------------------------------------------------------------


async def test_a_flood_of_input_is_dropped_beyond_the_burst_but_releases_still_pass(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben, host, _, sink = await controlled(nodes, CONTROL)
    raw = RawGuest(ben, host.session_id)
    await raw.send(KeyInput("ShiftLeft", "Shift", True))
    with caplog.at_level(logging.WARNING, "anydesk_invite.services.sessions.remote_input"):
        # The host's clock stands still: no tokens come back during the flood.
        for i in range(BURST * 3):
            await raw.send(PointerMove(0, i % 1000, 0))
        await raw.send(KeyInput("ShiftLeft", "Shift", False))
        await eventually(lambda: ("key", "ShiftLeft", "Shift", False) in sink.events)
    moves = [e for e in sink.events if e[0] == "move"]
    assert len(moves) == BURST - 1
    assert not sink.held_keys()
    assert any("dropping input" in r.getMessage() for r in caplog.records)
    anna.clock.advance(1.0)
    await raw.send(PointerMove(0, 999, 999))
    await eventually(lambda: sink.events[-1] == ("move", 0, 999, 999))


# --- a host that cannot inject ----------------------------------------------------------------


async def test_a_host_that_cannot_inject_says_so_and_the_guest_sends_no_input(
    nodes: Nodes,
) -> None:
    sink = RecordingInput(problem="no X display to inject input into")
    _anna, ben, host, control, _ = await controlled(nodes, CONTROL, sink)
    await eventually(lambda: control.unavailable() != "")
    assert control.unavailable() == "no X display to inject input into"
    assert not control.usable()
    assert control.key("KeyA", "a", True, frozenset()) is False
    raw = RawGuest(ben, host.session_id)
    await raw.send(KeyInput("KeyA", "a", True))
    assert await raw.expect(Refused) == Refused(what="control", reason="unavailable")
    assert sink.events == []
    [view] = ben.client.sessions()
    assert view.unavailable == ((Permission.CONTROL, "no X display to inject input into"),)


async def test_a_host_without_any_input_adapter_reports_control_unavailable(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    guest = await ben.client.accept(sent.invitation_id)
    control = ben.client.session_handle(guest.session_id).control
    assert control is not None
    await eventually(lambda: control.unavailable() != "")
    assert "no way to inject input" in control.unavailable()


async def test_an_unavailable_message_from_a_guest_changes_nothing_on_the_host(
    nodes: Nodes,
) -> None:
    _anna, ben, host, _control, sink = await controlled(nodes, CONTROL)
    raw = RawGuest(ben, host.session_id)
    await raw.send(Unavailable(CONTROL, "pretend"))
    await raw.send(KeyInput("KeyB", "b", True))
    await eventually(lambda: sink.events == [("key", "KeyB", "b", True)])
