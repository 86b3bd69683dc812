"""Wire format: every message round-trips, every bound holds, bad bytes give WireError only."""

from __future__ import annotations

import os

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net import wire
from anydesk_invite.net.wire import (
    HEADER,
    POST_AUTH_FRAME_LIMIT,
    PRE_AUTH_FRAME_LIMIT,
    PROTOCOL_VERSION,
    Auth,
    AuthOk,
    Bye,
    Chat,
    ClipboardText,
    ConnectRequest,
    Decoder,
    Error,
    FileAccept,
    FileAck,
    FileCancel,
    FileChunk,
    FileDone,
    FileOffer,
    FileRefused,
    FileSaved,
    FrameAck,
    FrameTiles,
    Hello,
    Invite,
    InviteAccept,
    InviteAcceptOk,
    InviteCancel,
    InviteDeclined,
    InviteRefused,
    InviteReject,
    InviteShown,
    InviteUpdate,
    Message,
    Ping,
    Pong,
    Refused,
    RequestAccepted,
    RequestCancel,
    RequestDismissed,
    ScreenEntry,
    ScreenList,
    ScreenSelect,
    SessionEnd,
    SessionOpen,
    SessionOpened,
    SessionPermissions,
    SysInfo,
    SysInfoRequest,
    Tile,
    VideoFrame,
    WireError,
    encode,
    frame,
)

ID = bytes(range(16))
TOKEN = bytes(range(32))
PERMS = frozenset({Permission.CONTROL, Permission.CLIPBOARD})

SAMPLES: list[Message] = [
    Hello((1, 0), b"k" * 44, "1234567890", "alice@ad", os.urandom(32)),
    Auth(b"s" * 64),
    AuthOk(),
    Error("version", "this device speaks protocol 1.0"),
    Ping(7),
    Pong(7),
    Bye("going away"),
    Invite(ID, 1, PERMS, "Default", 120.0),
    InviteUpdate(ID, 2, frozenset(), "Screen Sharing", 99.5),
    InviteCancel(ID),
    InviteDeclined(ID),
    InviteShown(ID),
    InviteAccept(ID, 2),
    InviteAcceptOk(ID, TOKEN, 30.0),
    InviteRefused(ID, "stale_revision"),
    InviteReject(ID),
    ConnectRequest(ID, 120.0),
    RequestAccepted(ID, PERMS, TOKEN, 30.0),
    RequestDismissed(ID, "not now"),
    RequestCancel(ID),
    SessionOpen(TOKEN),
    SessionOpened(ID, PERMS, frozenset({Permission.FILE_TRANSFER})),
    SessionPermissions(frozenset(Permission), frozenset()),
    SessionEnd("host ended the session"),
    Chat("hello ✓"),
    Refused("clipboard", "clipboard is not permitted"),
    SysInfoRequest(),
    SysInfo("Debian 12", "box", "x86_64", 2, 8 * 2**30, ["main 1920x1080"]),
    ClipboardText("copied"),
    ScreenList([ScreenEntry(0, "main", 1920, 1080), ScreenEntry(1, "side", 1280, 1024)], 0),
    ScreenSelect(1),
    ScreenSelect(0, jpeg=True, video=["h264"]),
    VideoFrame(
        9, 0, 1920, 1080, 3, 0, 64, 1920, 960, 1440, 720, "h264", True, b"\0\0\0\1\x67", False
    ),
    FrameTiles(9, 0, 1920, 1080, [Tile(64, 0, 64, 64, "zlib", b"\x78\x01")], final=True),
    FrameAck(9),
    FileOffer(b"\x07" * 16, "report.pdf", 123_456),
    FileAccept(b"\x07" * 16),
    FileChunk(b"\x07" * 16, 262_144, b"data"),
    FileAck(b"\x07" * 16, 262_148),
    FileDone(b"\x07" * 16, b"\x11" * 32),
    FileSaved(b"\x07" * 16),
    FileCancel(b"\x07" * 16, "cancelled"),
    FileRefused(b"\x07" * 16, "too_large", "over the size limit"),
    wire.PointerMove(0, 640, 400),
    wire.PointerButton(0, 640, 400, "left", True),
    wire.PointerWheel(0, -240),
    wire.KeyInput("KeyA", "A", True, frozenset({"shift"})),
    wire.PointerPosition(1, 10, 20, inside=False),
    wire.Unavailable(frozenset({Permission.CONTROL}), "no X display to inject input into"),
    wire.DrawStroke(3, 0, 0xFF3B30, [(10, 10), (11, 12)]),
    wire.DrawClear(),
]


def authenticated(peer_version: tuple[int, int] = PROTOCOL_VERSION) -> Decoder:
    d = Decoder()
    d.authenticated(peer_version)
    return d


def test_the_samples_cover_every_message_type() -> None:
    missing = sorted(c.__name__ for c in set(wire.message_types()) - {type(m) for m in SAMPLES})
    assert not missing, f"add a sample of {missing} to SAMPLES so it is round-tripped"


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda m: type(m).__name__)
def test_every_message_round_trips(msg: Message) -> None:
    decoder = Decoder() if type(msg).pre_auth else authenticated()
    assert decoder.decode(encode(msg)) == msg
    framed = frame(msg)
    assert decoder.body_length(framed[:4]) == len(framed) - 4
    assert framed[4:] == encode(msg)


def test_the_tag_is_the_class_name() -> None:
    assert msgspec.msgpack.decode(encode(Ping(3))) == {"t": "Ping", "seq": 3}


@pytest.mark.parametrize("msg", [m for m in SAMPLES if not type(m).pre_auth][:5])
def test_session_messages_are_refused_before_authentication(msg: Message) -> None:
    with pytest.raises(WireError) as err:
        Decoder().decode(encode(msg))
    assert err.value.code == "unknown_type"


@pytest.mark.parametrize("msg", [SAMPLES[0], SAMPLES[1], SAMPLES[2]])
def test_handshake_messages_are_refused_after_authentication(msg: Message) -> None:
    with pytest.raises(WireError) as err:
        authenticated().decode(encode(msg))
    assert err.value.code == "unknown_type"


def test_error_is_valid_before_and_after_authentication() -> None:
    e = Error("trust", "not trusted")
    assert Decoder().decode(encode(e)) == e
    assert authenticated().decode(encode(e)) == e


def _with_extra(msg: Message) -> bytes:
    raw = msgspec.msgpack.decode(encode(msg))
    raw["future_field"] = 1
    return msgspec.msgpack.encode(raw)


def test_unknown_field_is_refused_before_authentication() -> None:
    with pytest.raises(WireError) as err:
        Decoder().decode(_with_extra(SAMPLES[0]))
    assert err.value.code == "unknown_field"


@pytest.mark.parametrize("minor", [PROTOCOL_VERSION[1], max(0, PROTOCOL_VERSION[1] - 1)])
def test_unknown_field_is_refused_from_a_peer_of_equal_or_older_minor(minor: int) -> None:
    with pytest.raises(WireError) as err:
        authenticated((PROTOCOL_VERSION[0], minor)).decode(_with_extra(Chat("x")))
    assert err.value.code == "unknown_field"


def test_unknown_field_is_ignored_from_a_peer_of_newer_minor() -> None:
    d = authenticated((PROTOCOL_VERSION[0], PROTOCOL_VERSION[1] + 1))
    msg = d.decode(_with_extra(Invite(ID, 3, PERMS, "Default", 10.0)))
    assert msg == Invite(ID, 3, PERMS, "Default", 10.0)
    assert type(msg) is Invite


def test_unknown_message_type_is_refused_even_from_a_newer_minor() -> None:
    d = authenticated((PROTOCOL_VERSION[0], PROTOCOL_VERSION[1] + 1))
    with pytest.raises(WireError) as err:
        d.decode(msgspec.msgpack.encode({"t": "Teleport", "where": "mars"}))
    assert err.value.code == "unknown_type"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"\xc1", "malformed"),
        (b"", "malformed"),
        (msgspec.msgpack.encode({"t": "Ping", "seq": 1}) + b"x", "malformed"),
        (msgspec.msgpack.encode([1, 2]), "invalid"),
        (msgspec.msgpack.encode({"seq": 1}), "unknown_type"),
        (msgspec.msgpack.encode({"t": "Ping", "seq": -1}), "invalid"),
        (msgspec.msgpack.encode({"t": "Ping", "seq": "1"}), "invalid"),
        (msgspec.msgpack.encode({"t": "Ping"}), "invalid"),
    ],
)
def test_bad_bodies_give_their_error_code(raw: bytes, code: str) -> None:
    with pytest.raises(WireError) as err:
        authenticated().decode(raw)
    assert err.value.code == code


def _hello(**changes: object) -> bytes:
    raw = msgspec.msgpack.decode(encode(SAMPLES[0]))
    raw.update(changes)
    return msgspec.msgpack.encode(raw)


@pytest.mark.parametrize(
    "changes",
    [
        {"alias": "a" * 65},
        {"nonce": b"n" * 31},
        {"nonce": b"n" * 33},
        {"public_key": b"k" * 101},
        {"public_key": b""},
        {"device_id": "123456789"},
        {"device_id": "12345678901"},
        {"device_id": "12345abcde"},
        {"version": [1]},
        {"version": [1, 0, 0]},
        {"version": [70000, 0]},
    ],
    ids=str,
)
def test_hello_fields_out_of_bounds_are_invalid(changes: dict[str, object]) -> None:
    with pytest.raises(WireError) as err:
        Decoder().decode(_hello(**changes))
    assert err.value.code == "invalid"


VIDEO = VideoFrame(1, 0, 640, 480, 1, 0, 0, 640, 480, 640, 480, "h264", True, b"\0", True)


def _session(msg: Message, **changes: object) -> bytes:
    raw = msgspec.msgpack.decode(encode(msg))
    raw.update(changes)
    return msgspec.msgpack.encode(raw)


@pytest.mark.parametrize(
    ("msg", "changes"),
    [
        (Invite(ID, 1, PERMS, "Default", 1.0), {"invitation_id": b"x" * 15}),
        (Invite(ID, 1, PERMS, "Default", 1.0), {"permissions": ["control", "telekinesis"]}),
        (Invite(ID, 1, PERMS, "Default", 1.0), {"permissions": ["control"] * 33}),
        (Invite(ID, 1, PERMS, "Default", 1.0), {"profile": "p" * 41}),
        (Invite(ID, 1, PERMS, "Default", 1.0), {"seconds_left": -1.0}),
        (Invite(ID, 1, PERMS, "Default", 1.0), {"seconds_left": float("nan")}),
        (Invite(ID, 1, PERMS, "Default", 1.0), {"seconds_left": float("inf")}),
        (Invite(ID, 1, PERMS, "Default", 1.0), {"revision": 2**32}),
        (InviteDeclined(ID), {"reason": "you are not in my address book"}),
        (InviteRefused(ID, "expired"), {"code": "Expired!"}),
        (InviteAcceptOk(ID, TOKEN, 1.0), {"session_token": b"t" * 31}),
        (Chat("x"), {"text": "x" * 4001}),
        (Bye("x"), {"reason": "x" * 201}),
        (SysInfo("", "", "", 1, 1, []), {"screens": ["s"] * 17}),
        (SysInfo("", "", "", 1, 1, []), {"hostname": "h" * 256}),
        (ClipboardText(""), {"text": "c" * (1024 * 1024 + 1)}),
        (ScreenSelect(0), {"video": ["h264"] * 9}),
        (ScreenSelect(0), {"video": ["H.264"]}),
        (ScreenSelect(0), {"video": ["h" * 17]}),
        (VIDEO, {"data": b"\0" * (2 * 1024 * 1024 + 1)}),
        (VIDEO, {"vw": 0}),
        (VIDEO, {"w": 8193}),
        (VIDEO, {"x": 65536}),
        (VIDEO, {"stream": 2**32}),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Message) else "",
)
def test_session_fields_out_of_bounds_are_invalid(msg: Message, changes: dict[str, object]) -> None:
    with pytest.raises(WireError) as err:
        authenticated().decode(_session(msg, **changes))
    assert err.value.code == "invalid"


def test_chat_at_its_limit_is_accepted() -> None:
    assert authenticated().decode(encode(Chat("é" * 4000))) == Chat("é" * 4000)


def test_frame_length_over_the_pre_auth_limit_is_too_large() -> None:
    d = Decoder()
    assert d.limit == PRE_AUTH_FRAME_LIMIT
    assert d.body_length(HEADER.pack(PRE_AUTH_FRAME_LIMIT)) == PRE_AUTH_FRAME_LIMIT
    with pytest.raises(WireError) as err:
        d.body_length(HEADER.pack(PRE_AUTH_FRAME_LIMIT + 1))
    assert err.value.code == "too_large"


def test_after_authentication_the_larger_limit_holds() -> None:
    d = authenticated()
    assert d.body_length(HEADER.pack(POST_AUTH_FRAME_LIMIT)) == POST_AUTH_FRAME_LIMIT
    with pytest.raises(WireError) as err:
        d.body_length(HEADER.pack(POST_AUTH_FRAME_LIMIT + 1))
    assert err.value.code == "too_large"


def test_a_short_header_is_malformed() -> None:
    with pytest.raises(WireError) as err:
        Decoder().body_length(b"\x00\x00")
    assert err.value.code == "malformed"


def test_decode_refuses_a_body_over_the_limit() -> None:
    with pytest.raises(WireError) as err:
        Decoder(pre_auth_limit=10).decode(encode(Error("x", "y" * 20)))
    assert err.value.code == "too_large"


def test_adding_a_message_class_is_all_it_takes_to_send_it() -> None:
    # The decoders are built from Message's subclasses, so no list needs updating.
    names = {c.__name__ for c in wire.message_types()}
    assert {"Hello", "Chat", "ClipboardText", "SysInfo"} <= names
    assert len(names) == len(wire.message_types())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=256), st.booleans(), st.integers(0, 3))
def test_random_bytes_give_wire_error_and_nothing_else(
    data: bytes, after_auth: bool, minor: int
) -> None:
    d = Decoder()
    if after_auth:
        d.authenticated((PROTOCOL_VERSION[0], minor))
    try:
        d.decode(data)
    except WireError:
        pass


_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.binary(max_size=40),
)
_value = st.recursive(
    _leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_tags = st.sampled_from([c.__name__ for c in wire.message_types()] + ["Nope"])


@settings(max_examples=300, deadline=None)
@given(_tags, st.dictionaries(st.text(max_size=16), _value, max_size=6), st.booleans())
def test_well_formed_msgpack_with_random_fields_gives_wire_error_or_a_message(
    tag: str, fields: dict[str, object], after_auth: bool
) -> None:
    d = Decoder()
    if after_auth:
        d.authenticated(PROTOCOL_VERSION)
    try:
        msg = d.decode(msgspec.msgpack.encode({**fields, "t": tag}))
    except WireError:
        return
    assert isinstance(msg, Message)


@pytest.mark.parametrize(
    "msg",
    [
        {"t": "KeyInput", "code": "Key A", "key": "a", "pressed": True},
        {"t": "KeyInput", "code": "KeyA", "key": "a" * 17, "pressed": True},
        {"t": "PointerButton", "screen": 0, "x": 1, "y": 1, "button": "fifth", "pressed": True},
        {"t": "PointerWheel", "dx": 0, "dy": 40_000},
        {"t": "DrawStroke", "stroke": 1, "screen": 0, "color": 0, "points": []},
        {"t": "DrawStroke", "stroke": 1, "screen": 0, "color": 0, "points": [[1, 1]] * 257},
    ],
    ids=[
        "code-with-space",
        "long-key-text",
        "unknown-button",
        "huge-wheel",
        "empty-stroke",
        "stroke-chunk-too-long",
    ],
)
def test_out_of_bounds_input_and_drawing_messages_are_invalid(msg: dict[str, object]) -> None:
    with pytest.raises(WireError) as err:
        authenticated().decode(msgspec.msgpack.encode(msg))
    assert err.value.code == "invalid"


@pytest.mark.parametrize("size", [0, 1, 65_535, 65_536, 200_000, wire.FILE_CHUNK_MAX])
def test_a_file_chunk_sent_in_pieces_is_the_same_frame_to_the_receiver(size: int) -> None:
    data = os.urandom(size)
    msg = FileChunk(b"\x07" * 16, 2**40, memoryview(data))
    parts = wire.frame_parts(msg)
    if size >= 64 * 1024:
        assert len(parts) == 2 and parts[1] is msg.data  # the data itself, not a copy
    joined = b"".join(parts)
    decoder = authenticated()
    assert decoder.body_length(joined[: wire.HEADER.size]) == len(joined) - wire.HEADER.size
    back = decoder.decode(joined[wire.HEADER.size :])
    assert isinstance(back, FileChunk)
    assert (back.transfer_id, back.offset, bytes(back.data)) == (msg.transfer_id, 2**40, data)


def test_other_messages_are_sent_as_one_piece() -> None:
    msg = Chat("hello")
    assert wire.frame_parts(msg) == [wire.frame(msg)]


def test_permission_sets_are_sent_sorted_whatever_their_order_in_memory() -> None:
    perms = frozenset(Permission)
    msg = wire.SessionPermissions(permissions=perms, locked=perms)
    body = msgspec.msgpack.decode(wire.encode(msg))
    assert body["permissions"] == sorted(p.value for p in Permission)
    assert body["locked"] == sorted(p.value for p in Permission)


def test_a_message_is_described_by_its_field_sizes_never_their_content() -> None:
    assert wire.describe(FileChunk(b"\x01" * 16, 7, memoryview(b"secret"))) == (
        "FileChunk(transfer_id: 16 bytes, offset, data: 6 bytes)"
    )
    assert wire.describe(Chat("hello")) == "Chat(text: 5 characters)"
    assert (
        wire.describe(
            SessionPermissions(frozenset({Permission.CONTROL, Permission.DRAW}), frozenset())
        )
        == "SessionPermissions(permissions: 2 items, locked: 0 items)"
    )
    assert wire.describe(SysInfoRequest()) == "SysInfoRequest()"
