"""Drawing on the host's screen between whole clients over in-memory channels: strokes arrive
only while DRAW is granted, are bounded, and vanish on clear, revoke and end."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.wire import DrawClear, DrawStroke, Refused
from anydesk_invite.services.facade import Pen
from anydesk_invite.services.sessions.drawing import COLORS, MAX_POINTS, MAX_STROKES
from anydesk_invite.services.views import SessionView
from tests.helpers.nodes import Node, Nodes, Recorder, eventually, nodes_for
from tests.helpers.raw_guest import RawGuest

DRAW = frozenset({Permission.DRAW})
NOTHING: frozenset[Permission] = frozenset()


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


async def drawing_session(
    nodes: Nodes, permissions: frozenset[Permission], host_problem: str | None = None
) -> tuple[Node, Node, SessionView, Pen]:
    anna, ben = await nodes.pair()
    anna.features.drawing.display_problem = host_problem
    sent = await anna.client.invite(ben.device_id, permissions, "")
    await ben.received.wait()
    guest = await ben.client.accept(sent.invitation_id)
    await eventually(lambda: len(anna.client.sessions()) == 1)
    [host] = anna.client.sessions()
    pen = ben.client.session_handle(guest.session_id).pen
    assert pen is not None
    return anna, ben, host, pen


async def test_a_guest_stroke_appears_on_the_host_while_draw_is_granted(nodes: Nodes) -> None:
    anna, _, host, pen = await drawing_session(nodes, DRAW)
    drawing = anna.client
    assert pen.begin(0, 10, 10)
    pen.extend(20, 15)
    pen.extend(30, 25)
    pen.end()
    assert pen.begin(0, 100, 100)
    await eventually(lambda: len(drawing.strokes()) == 2)
    first, second = drawing.strokes(host.session_id)
    assert first.points == ((10, 10), (20, 15), (30, 25))
    assert second.points == ((100, 100),)
    assert first.color == second.color == drawing.color_of(host.session_id) == COLORS[0]


async def test_a_stroke_without_draw_is_refused_logged_and_not_shown(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben, host, pen = await drawing_session(nodes, NOTHING)
    assert pen.begin(0, 1, 1) is False
    raw = RawGuest(ben, host.session_id)
    with caplog.at_level(logging.WARNING, "anydesk_invite.services.sessions.drawing"):
        await raw.send(DrawStroke(1, 0, 0xFFFFFF, [(1, 1), (2, 2)]))
        assert await raw.expect(Refused) == Refused(what="draw", reason="not permitted")
    assert anna.client.strokes() == []
    assert any("refused a stroke" in r.getMessage() for r in caplog.records)


HEADLESS = "the host runs without a window (headless) and cannot show drawings"


async def test_a_host_that_cannot_show_drawings_says_so_and_the_pen_stays_up(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben, host, pen = await drawing_session(
        nodes, DRAW | {Permission.CONTROL}, host_problem=HEADLESS
    )
    await eventually(lambda: pen.unavailable() != "")
    assert pen.unavailable() == HEADLESS
    assert not pen.usable() and pen.begin(0, 1, 1) is False
    # The host has no input adapter either: each permission keeps its own reason.
    handle = ben.client.session_handle(host.session_id)
    control, same_pen = handle.control, handle.pen
    assert control is not None and same_pen is not None
    await eventually(lambda: control.unavailable() != "")
    assert "no way to inject input" in control.unavailable()
    assert same_pen.unavailable() == HEADLESS
    # A guest that bypasses its pen is refused, and nothing is kept.
    raw = RawGuest(ben, host.session_id)
    with caplog.at_level(logging.WARNING, "anydesk_invite.services.sessions.drawing"):
        await raw.send(DrawStroke(1, 0, 0xFFFFFF, [(1, 1), (2, 2)]))
        assert await raw.expect(Refused) == Refused(what="draw", reason="unavailable")
    assert anna.client.strokes() == []
    assert any(HEADLESS in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("how", ["host clears", "guest clears", "revoke", "end"])
async def test_strokes_vanish_when_cleared_revoked_or_the_session_ends(
    nodes: Nodes, how: str
) -> None:
    anna, ben, host, pen = await drawing_session(nodes, DRAW)
    drawing = anna.client
    changed = Recorder(drawing.strokes_changed)
    pen.begin(0, 5, 5)
    pen.extend(6, 6)
    await eventually(lambda: len(drawing.strokes()) == 1 and len(drawing.strokes()[0].points) == 2)
    raw = RawGuest(ben, host.session_id) if how == "host clears" else None
    if how == "host clears":
        await drawing.clear_drawings(host.session_id)
        assert raw is not None
        assert await raw.expect(DrawClear) == DrawClear()
    elif how == "guest clears":
        pen.clear()
    elif how == "revoke":
        await anna.client.set_session_permissions(host.session_id, NOTHING)
    else:
        await ben.client.end_session(host.session_id)
    await eventually(lambda: drawing.strokes() == [])
    assert changed.items[-1] == host.session_id


async def test_strokes_are_bounded_per_session_and_per_stroke(nodes: Nodes) -> None:
    anna, ben, host, _ = await drawing_session(nodes, DRAW)
    drawing = anna.client
    raw = RawGuest(ben, host.session_id)
    for n in range(MAX_STROKES + 5):
        await raw.send(DrawStroke(n, 0, 0, [(n, n)]))
    chunk = [(1, 2)] * 256
    for _ in range(MAX_POINTS // 256 + 2):
        await raw.send(DrawStroke(10_000, 0, 0, chunk))
    await eventually(lambda: any(s.stroke == 10_000 for s in drawing.strokes()))
    await eventually(
        lambda: len(next(s for s in drawing.strokes() if s.stroke == 10_000).points) == MAX_POINTS
    )
    strokes = drawing.strokes()
    assert len(strokes) == MAX_STROKES
    # The oldest went first: strokes 0..5 are gone, the newest is there.
    assert [s.stroke for s in strokes][:2] == [6, 7]


async def test_two_guests_draw_in_different_colours(nodes: Nodes) -> None:
    anna, _ben, _, pen = await drawing_session(nodes, DRAW)
    carl = await nodes.make("carl")
    anna.knows(carl)
    carl.knows(anna)
    sent = await anna.client.invite(carl.device_id, DRAW, "")
    await carl.received.wait()
    guest = await carl.client.accept(sent.invitation_id)
    carls_pen = carl.client.session_handle(guest.session_id).pen
    assert carls_pen is not None
    pen.begin(0, 1, 1)
    carls_pen.begin(0, 2, 2)
    drawing = anna.client
    await eventually(lambda: len(drawing.strokes()) == 2)
    assert {s.color for s in drawing.strokes()} == {COLORS[0], COLORS[1]}
