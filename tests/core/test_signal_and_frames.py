"""Core's small signal and the captured-frame value: slots run in order with the payload, a
failing slot is logged and the others still run; a frame's geometry must fit its bytes."""

from __future__ import annotations

import logging

import pytest

from anydesk_invite.core.screen import RawFrame
from anydesk_invite.core.signal import Signal


def test_every_connected_slot_gets_the_payload_in_connection_order() -> None:
    signal: Signal[int] = Signal("counted")
    got: list[tuple[str, int]] = []
    signal.connect(lambda v: got.append(("a", v)))
    signal.connect(lambda v: got.append(("b", v)))
    signal.emit(7)
    assert got == [("a", 7), ("b", 7)]
    assert signal.name == "counted"


def test_a_disconnected_slot_is_not_called_again() -> None:
    signal: Signal[str] = Signal()
    assert signal.name == ""
    got: list[str] = []
    signal.connect(got.append)
    signal.emit("one")
    signal.disconnect(got.append)
    signal.emit("two")
    assert got == ["one"]


def test_a_failing_slot_is_logged_by_signal_name_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    signal: Signal[int] = Signal("ticks")
    got: list[int] = []

    def broken(_: int) -> None:
        raise RuntimeError("boom")

    signal.connect(broken)
    signal.connect(got.append)
    with caplog.at_level(logging.ERROR, logger="anydesk_invite.core.signal"):
        signal.emit(3)
    assert got == [3]
    [record] = caplog.records
    assert record.getMessage() == "slot for signal ticks failed"
    assert record.exc_info is not None and str(record.exc_info[1]) == "boom"


def test_a_slot_that_disconnects_itself_does_not_skip_the_next_one() -> None:
    signal: Signal[int] = Signal()
    got: list[str] = []

    def once(_: int) -> None:
        got.append("once")
        signal.disconnect(once)

    signal.connect(once)
    signal.connect(lambda _: got.append("always"))
    signal.emit(1)
    signal.emit(2)
    assert got == ["once", "always", "always"]


def test_a_frame_exactly_as_large_as_its_geometry_is_accepted() -> None:
    frame = RawFrame(2, 3, 8, bytes(24))
    assert (frame.width, frame.height, frame.stride) == (2, 3, 8)
    assert RawFrame(0, 0, 0, b"").data == b""


@pytest.mark.parametrize(
    ("width", "height", "stride", "size", "told"),
    [
        (-1, 1, 8, 8, "bad frame geometry -1x1 stride 8"),
        (1, -1, 8, 8, "bad frame geometry 1x-1 stride 8"),
        (2, 1, 7, 8, "bad frame geometry 2x1 stride 7"),
        (2, 3, 8, 23, "frame data shorter than its geometry"),
    ],
)
def test_a_frame_whose_bytes_do_not_fit_its_geometry_is_refused(
    width: int, height: int, stride: int, size: int, told: str
) -> None:
    with pytest.raises(ValueError) as refused:
        RawFrame(width, height, stride, bytes(size))
    assert str(refused.value) == told
