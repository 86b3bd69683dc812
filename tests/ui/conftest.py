"""Shared UI fixtures: the facade stub, some peers, and a qasync loop for async slots."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from anydesk_invite.services.views import PeerSource, PeerView
from anydesk_invite.ui.qt_loop import attached_loop
from tests.helpers.fake_client import FakeClient, make_peer

FAV = PeerSource.FAVORITES
RECENT = PeerSource.RECENT
DISC = PeerSource.DISCOVERY
BOOK = PeerSource.ADDRESS_BOOK


def sample_peers() -> list[PeerView]:
    """At least one peer in each pane, some in several."""
    return [
        make_peer("anna", FAV, RECENT, BOOK, online=True, tags=("family",), last_session=1.7e9),
        make_peer("bob", RECENT, DISC, online=True, last_session=1.75e9, first_contact=False),
        make_peer("carla", DISC, online=True),
        make_peer("dieter", BOOK, tags=("office", "printer"), manual_address="127.0.0.5:7070"),
        make_peer("eve", DISC, online=True, conflict=True),
    ]


@pytest.fixture
def facade() -> FakeClient:
    return FakeClient(peers=sample_peers())


@pytest.fixture
def qasync_loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop on the running test application, so @asyncSlot tasks run while qtbot
    waits."""
    with attached_loop(qapp) as loop:
        yield loop
