"""Drawing on the host's screen between whole clients over in-memory channels: strokes arrive
only while DRAW is granted, are bounded, and vanish on clear, revoke and end."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.wire import DrawClear, DrawStroke, Refused
from anydesk_invite.services.sessions.drawing import COLORS, MAX_POINTS, MAX_STROKES, GuestPen
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
) -> tuple[Node, Node, SessionView, GuestPen]:
    anna, ben = await nodes.pair()
    anna.client.sessions_service.drawing.display_problem = host_problem
    sent = await anna.client.invite(ben.device_id, permissions, "")
    await ben.received.wait()
    guest = await ben.client.accept(sent.invitation_id)
    await eventually(lambda: len(anna.client.sessions()) == 1)
    [host] = anna.client.sessions()
    found = ben.client.sessions_service.guest_control(guest.session_id)
    assert found is not None
    return anna, ben, host, found[1]


async def test_a_guest_stroke_appears_on_the_host_while_draw_is_granted(nodes: Nodes) -> None:
    anna, _, host, pen = await drawing_session(nodes, DRAW)
    drawing = anna.client.sessions_service.drawing
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
    assert anna.client.sessions_service.drawing.strokes() == []
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
    found = ben.client.sessions_service.guest_control(host.session_id)
    assert found is not None
    await eventually(lambda: found[0].unavailable() != "")
    assert "no way to inject input" in found[0].unavailable()
    assert found[1].unavailable() == HEADLESS
    # A guest that bypasses its pen is refused, and nothing is kept.
    raw = RawGuest(ben, host.session_id)
    with caplog.at_level(logging.WARNING, "anydesk_invite.services.sessions.drawing"):
        await raw.send(DrawStroke(1, 0, 0xFFFFFF, [(1, 1), (2, 2)]))
        assert await raw.expect(Refused) == Refused(what="draw", reason="unavailable")
    assert anna.client.sessions_service.drawing.strokes() == []
    assert any(HEADLESS in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("how", ["host clears", "guest clears", "revoke", "end"])
async def test_strokes_vanish_when_cleared_revoked_or_the_session_ends(
    nodes: Nodes, how: str
) -> None:
    anna, ben, host, pen = await drawing_session(nodes, DRAW)
    drawing = anna.client.sessions_service.drawing
    changed = Recorder(drawing.changed)
    pen.begin(0, 5, 5)
    pen.extend(6, 6)
    await eventually(lambda: len(drawing.strokes()) == 1 and len(drawing.strokes()[0].points) == 2)
    raw = RawGuest(ben, host.session_id) if how == "host clears" else None
    service = anna.client.sessions_service
    if how == "host clears":
        await drawing.clear(service.find(host.session_id))
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
    drawing = anna.client.sessions_service.drawing
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
    found = carl.client.sessions_service.guest_control(guest.session_id)
    assert found is not None
    pen.begin(0, 1, 1)
    found[1].begin(0, 2, 2)
    drawing = anna.client.sessions_service.drawing
    await eventually(lambda: len(drawing.strokes()) == 2)
    assert {s.color for s in drawing.strokes()} == {COLORS[0], COLORS[1]}
