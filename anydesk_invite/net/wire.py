"""The wire format: msgspec Structs as MessagePack maps, each frame a 4-byte length plus body.

Every message is a subclass of ``Message``; the decoder's tagged union is built from all of
them, so adding a message is adding one class. docs/PROTOCOL.md is the normative description.
"""

from __future__ import annotations

import functools
import struct
from typing import Annotated, Any, ClassVar, Final, Literal

import msgspec
from msgspec import Meta

from anydesk_invite.core.input_names import Modifier, PointerButtonName
from anydesk_invite.core.permissions import Permission

PROTOCOL_VERSION: Final = (1, 2)
"""1.1 added ScreenSelect.video and VideoFrame (the moving screen as H.264); 1.2 added
FrameAck.busy (how long the guest spent on a frame, so the host tells a busy guest from a slow
link)."""
PRE_AUTH_FRAME_LIMIT: Final = 8 * 1024
POST_AUTH_FRAME_LIMIT: Final = 4 * 1024 * 1024
HEADER: Final = struct.Struct(">I")

# Bounded field types. Every field on the wire has a bound, so a decoded message has a known size.
U16 = Annotated[int, Meta(ge=0, le=0xFFFF)]
U32 = Annotated[int, Meta(ge=0, le=0xFFFF_FFFF)]
U63 = Annotated[int, Meta(ge=0, le=2**63 - 1)]
Version = tuple[U16, U16]
RandomId = Annotated[bytes, Meta(min_length=16, max_length=16)]
Token = Annotated[bytes, Meta(min_length=32, max_length=32)]
Nonce = Annotated[bytes, Meta(min_length=32, max_length=32)]
PublicKey = Annotated[bytes, Meta(min_length=1, max_length=100)]
Signature = Annotated[bytes, Meta(min_length=1, max_length=128)]
DeviceIdText = Annotated[str, Meta(pattern=r"^[0-9]{10}$")]
AliasText = Annotated[str, Meta(max_length=64)]
Code = Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
Reason = Annotated[str, Meta(max_length=200)]
ProfileName = Annotated[str, Meta(max_length=40)]
ChatText = Annotated[str, Meta(max_length=4000)]
ClipboardContent = Annotated[str, Meta(max_length=1024 * 1024)]
ShortText = Annotated[str, Meta(max_length=255)]
# Never more than a day: invitations last two minutes, tokens seconds.
Seconds = Annotated[float, Meta(ge=0.0, le=86400.0)]
Permissions = Annotated[frozenset[Permission], Meta(max_length=32)]
Screens = Annotated[list[ShortText], Meta(max_length=16)]

# The codes InviteRefused carries; a receiver treats a code it does not know as a refusal.
INVITE_REFUSED_CODES: Final = (
    "expired",
    "cancelled",
    "stale_revision",
    "not_pending",
    "unknown_invitation",
)


class WireError(Exception):
    """Bytes that are not a valid frame or message. ``code`` goes into the Error sent back."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Message(msgspec.Struct, tag=True, tag_field="t", forbid_unknown_fields=True):
    """Base of every message. The tag ``t`` is the class name."""

    # True for the messages of the handshake, the only ones accepted before authentication.
    pre_auth: ClassVar[bool] = False


def describe(msg: Message) -> str:
    """A message for a log line: its type and the sizes of its fields, never their content.

    ``Tile(x, y, data: 4096 bytes)``: text and bytes show their length, lists their item count,
    numbers and flags only their name, so nothing a peer sent reaches the log.
    """
    parts = []
    for name in msg.__struct_fields__:
        value = getattr(msg, name)
        if isinstance(value, bytes | bytearray | memoryview):
            parts.append(f"{name}: {len(value)} bytes")
        elif isinstance(value, str):
            parts.append(f"{name}: {len(value)} characters")
        elif isinstance(value, list | tuple | frozenset | set | dict):
            parts.append(f"{name}: {len(value)} items")
        else:
            parts.append(name)
    return f"{type(msg).__name__}({', '.join(parts)})"


# --- handshake (pre-auth) -------------------------------------------------------------------


class Hello(Message):
    pre_auth: ClassVar[bool] = True
    version: Annotated[Version, Meta(description="the sender's PROTOCOL_VERSION, [major, minor]")]
    public_key: Annotated[
        PublicKey, Meta(description="the sender's Ed25519 SubjectPublicKeyInfo DER (44 bytes)")
    ]
    device_id: Annotated[
        DeviceIdText, Meta(description="the ten-digit ID derived from SHA-256(public_key)")
    ]
    alias: Annotated[
        AliasText,
        Meta(description="display only: name@ad; receivers strip control and bidi characters"),
    ]
    nonce: Annotated[Nonce, Meta(description="32 fresh random bytes, signed over in Auth")]


class Auth(Message):
    pre_auth: ClassVar[bool] = True
    signature: Annotated[
        Signature,
        Meta(description="Ed25519 (64 bytes) over the transcript of the handshake section"),
    ]


class AuthOk(Message):
    pre_auth: ClassVar[bool] = True


class Error(Message):
    """The sender refuses and closes. Valid before and after authentication."""

    pre_auth: ClassVar[bool] = True
    code: Annotated[Code, Meta(description="one of the error codes")]
    message: Annotated[Reason, Meta(description="for people")]


# --- link -----------------------------------------------------------------------------------


class Ping(Message):
    seq: Annotated[U63, Meta(description="increasing")]


class Pong(Message):
    seq: Annotated[U63, Meta(description="the seq of the Ping answered")]


class Bye(Message):
    reason: Reason


# --- invitations and connection requests ------------------------------------------------------


class Invite(Message):
    invitation_id: Annotated[RandomId, Meta(description="16 random bytes chosen by the inviter")]
    revision: Annotated[U32, Meta(description="1 for the first Invite")]
    permissions: Annotated[Permissions, Meta(description="what the guest may do")]
    profile: Annotated[
        ProfileName,
        Meta(
            description="informative only: the name of the profile the permissions match, or empty"
        ),
    ]
    seconds_left: Annotated[Seconds, Meta(description="until the invitation expires")]


class InviteUpdate(Message):
    invitation_id: RandomId
    revision: Annotated[U32, Meta(description="higher than the previous one")]
    permissions: Permissions
    profile: Annotated[ProfileName, Meta(description="informative only, as in Invite")]
    seconds_left: Annotated[Seconds, Meta(description="never extends the deadline")]


class InviteCancel(Message):
    invitation_id: RandomId


class InviteDeclined(Message):
    """The invitee refused the invitation without showing it (its settings, a limit, a
    replayed id); the reason never says which check refused."""

    invitation_id: RandomId
    reason: Annotated[
        Literal["declined"],
        Meta(description="it never says which check refused"),
    ] = "declined"


class InviteShown(Message):
    """The invitee shows the invitation (or request) to its user; sent once, on receipt."""

    invitation_id: Annotated[
        RandomId,
        Meta(description="the invitation_id of an Invite or the request_id of a ConnectRequest"),
    ]


class InviteAccept(Message):
    invitation_id: RandomId
    revision: Annotated[U32, Meta(description="the revision the user saw")]


class InviteAcceptOk(Message):
    invitation_id: RandomId
    session_token: Annotated[Token, Meta(description="single use, bound to the invitee's key")]
    token_seconds: Annotated[Seconds, Meta(description="how long the token stays valid (30)")]


class InviteRefused(Message):
    invitation_id: RandomId
    code: Annotated[
        Code,
        Meta(
            description="expired, cancelled, stale_revision, not_pending or "
            "unknown_invitation; an unknown code is a plain refusal"
        ),
    ]


class InviteReject(Message):
    invitation_id: RandomId


class ConnectRequest(Message):
    request_id: RandomId
    seconds_left: Seconds


class RequestAccepted(Message):
    request_id: RandomId
    permissions: Permissions
    session_token: Annotated[Token, Meta(description="single use, bound to the requester's key")]
    token_seconds: Annotated[Seconds, Meta(description="how long the token stays valid (30)")]


class RequestDismissed(Message):
    request_id: RandomId
    reason: Annotated[Reason, Meta(description='"declined" from the reference client')]


class RequestCancel(Message):
    request_id: RandomId


# --- sessions -------------------------------------------------------------------------------


class SessionOpen(Message):
    session_token: Token


class SessionOpened(Message):
    session_id: Annotated[RandomId, Meta(description="16 random bytes chosen by the host")]
    permissions: Permissions
    locked: Annotated[Permissions, Meta(description="the permissions an admin policy forces")]


class SessionPermissions(Message):
    permissions: Permissions
    locked: Annotated[Permissions, Meta(description="the permissions an admin policy forces")]


class SessionEnd(Message):
    reason: Reason


class Chat(Message):
    text: ChatText


class Refused(Message):
    """A guest request outside its permissions: ``what`` names the request."""

    what: Annotated[
        Code, Meta(description="the refused request: a permission key, screen or unexpected")
    ]
    reason: Reason


class SysInfoRequest(Message):
    pass


class SysInfo(Message):
    os: ShortText
    hostname: ShortText
    cpu: ShortText
    cpu_count: U32
    memory_total: Annotated[U63, Meta(description="bytes")]
    screens: Annotated[
        Screens,
        Meta(description="one entry per screen, name WIDTHxHEIGHT, no leading or trailing space"),
    ]


class ClipboardText(Message):
    text: ClipboardContent


# --- file transfer --------------------------------------------------------------------------

# The largest FileChunk payload; a chunk over this is refused by the decoder.
FILE_CHUNK_MAX: Final = 256 * 1024
Sha256 = Annotated[bytes, Meta(min_length=32, max_length=32)]
# Wide enough that a long name is shortened by the receiver rather than closing the channel.
FileName = Annotated[str, Meta(max_length=4096)]
# Decoded as a view into the received frame: a chunk is not copied on its way to the disk.
FileData = Annotated[memoryview, Meta(max_length=FILE_CHUNK_MAX)]


class FileOffer(Message):
    """The sender has a file: a guest offers it to the host, a host offers it for fetching."""

    transfer_id: RandomId
    name: Annotated[FileName, Meta(description="a name only; the receiver sanitises it")]
    size: Annotated[U63, Meta(description="bytes")]


class FileAccept(Message):
    """The receiver takes an offered file; the sender starts sending chunks."""

    transfer_id: RandomId


class FileChunk(Message):
    transfer_id: RandomId
    offset: Annotated[U63, Meta(description="where data starts in the file")]
    data: FileData


class FileAck(Message):
    """The receiver took every byte before ``offset``; the sender may send more."""

    transfer_id: RandomId
    offset: Annotated[U63, Meta(description="the receiver has taken every byte before it")]


class FileDone(Message):
    """The sender sent every chunk; ``sha256`` is the SHA-256 of all of them, in order."""

    transfer_id: RandomId
    sha256: Annotated[Sha256, Meta(description="SHA-256 of every chunk's data, in order")]


class FileSaved(Message):
    """The receiver verified the SHA-256 and saved the file under its final name."""

    transfer_id: RandomId


class FileCancel(Message):
    """Either side stops a transfer; the receiver removes the partial file."""

    transfer_id: RandomId
    reason: Reason


class FileRefused(Message):
    """An offer, accept or chunk the other side will not take; ``code`` says why."""

    transfer_id: RandomId
    code: Annotated[
        Code,
        Meta(
            description="not_permitted, not_accepted, unknown_transfer, duplicate, "
            "too_many, too_large, disk_full or cannot_write"
        ),
    ]
    reason: Reason


# --- screen ---------------------------------------------------------------------------------

# A guest never allocates a frame buffer bigger than this many pixels (8K UHD).
MAX_FRAME_PIXELS: Final = 7680 * 4320
MAX_TILE_SIDE: Final = 256
ScreenSide = Annotated[int, Meta(ge=1, le=8192)]
TileSide = Annotated[int, Meta(ge=1, le=MAX_TILE_SIDE)]
TileData = Annotated[bytes, Meta(max_length=MAX_TILE_SIDE * MAX_TILE_SIDE * 4 + 1024)]
TileEncoding = Literal["raw", "zlib", "jpeg"]


class ScreenEntry(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    """One of the host's screens, sent as the array ``[index, name, width, height]``."""

    index: U16
    name: ShortText
    width: ScreenSide
    height: ScreenSide


class Tile(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    """A rectangle of the frame, sent as ``[x, y, w, h, encoding, data]``. ``data`` decodes to
    ``w*h`` BGRA pixels, row after row."""

    x: U16
    y: U16
    w: TileSide
    h: TileSide
    encoding: TileEncoding
    data: TileData


class ScreenList(Message):
    """Host to guest: the screens it can share and the one it shows. Empty: no sharing."""

    screens: Annotated[list[ScreenEntry], Meta(max_length=16)]
    current: Annotated[
        U16, Meta(description="the index of the screen shown; 0 when screens is empty")
    ]


VideoCodecName = Annotated[str, Meta(min_length=1, max_length=16, pattern=r"^[a-z0-9]+$")]
MAX_VIDEO_UNIT: Final = 2 * 1024 * 1024
"""Bytes of one encoded video picture; a guest refuses a bigger one before decoding."""
VideoData = Annotated[bytes, Meta(max_length=MAX_VIDEO_UNIT)]


class ScreenSelect(Message):
    """Guest to host: show the screen with this index; ``jpeg``: this guest decodes JPEG
    tiles, so the host may send photo-like tiles that way; ``video``: the video codecs this
    guest decodes (``"h264"``), so the host may send moving content as VideoFrame."""

    index: U16
    jpeg: Annotated[bool, Meta(description="this guest decodes jpeg tiles")] = False
    video: Annotated[
        list[VideoCodecName],
        Meta(max_length=8, description="the video codecs this guest decodes, e.g. h264"),
    ] = msgspec.field(default_factory=list)


class FrameTiles(Message):
    """Host to guest: changed tiles of frame ``seq``; ``final`` on the frame's last chunk."""

    seq: Annotated[U63, Meta(description="frame number, increasing")]
    screen: U16
    width: ScreenSide
    height: ScreenSide
    tiles: Annotated[list[Tile], Meta(max_length=4096)]
    final: Annotated[bool, Meta(description="true on the frame's last message")]


class VideoFrame(Message):
    """Host to guest: the rectangle (x, y, w, h) of frame ``seq`` as one H.264 access unit
    (Annex B) of a ``vw`` x ``vh`` picture, scaled to ``w`` x ``h`` when smaller. A new
    ``stream`` starts with a keyframe; ``final`` when no FrameTiles of this seq follow."""

    seq: Annotated[U63, Meta(description="the frame it belongs to (shared with its FrameTiles)")]
    screen: U16
    width: Annotated[ScreenSide, Meta(description="the frame's width")]
    height: Annotated[ScreenSide, Meta(description="the frame's height")]
    stream: Annotated[U32, Meta(description="the video stream; a new value starts a new one")]
    x: Annotated[U16, Meta(description="the rectangle's left edge in frame pixels")]
    y: Annotated[U16, Meta(description="the rectangle's top edge in frame pixels")]
    w: Annotated[ScreenSide, Meta(description="the rectangle's width in frame pixels")]
    h: Annotated[ScreenSide, Meta(description="the rectangle's height in frame pixels")]
    vw: Annotated[ScreenSide, Meta(description="the coded picture's width: even, at most w")]
    vh: Annotated[ScreenSide, Meta(description="the coded picture's height: even, at most h")]
    codec: Annotated[VideoCodecName, Meta(description="one the guest listed in ScreenSelect.video")]
    keyframe: Annotated[
        bool, Meta(description="data decodes without the stream's earlier pictures")
    ]
    data: Annotated[
        VideoData,
        Meta(
            description="one access unit; h264: Annex B byte stream, NAL units with start "
            "codes, a keyframe carries SPS and PPS"
        ),
    ]
    final: Annotated[bool, Meta(description="true when no FrameTiles of this seq follow")]


class FrameAck(Message):
    """Guest to host: every chunk of frame ``seq`` (and of the frames before it) is shown;
    ``busy``: the milliseconds the guest spent on frame ``seq``, from taking its first message
    to this ack (0: not said; protocol 1.2)."""

    seq: Annotated[U63, Meta(description="every frame up to this one is shown")]
    busy: Annotated[
        int,
        Meta(
            ge=0,
            le=60_000,
            description="milliseconds the guest spent on this frame, from its first message "
            "to this ack; 0: not said",
        ),
    ] = 0


# --- remote control -------------------------------------------------------------------------

# Coordinates are device pixels of one of the host's screens, as its frames are sent.
I16 = Annotated[int, Meta(ge=-0x8000, le=0x7FFF)]
# A W3C UI Events ``code`` ("KeyA", "Enter", "ShiftLeft"): the key's place, not its meaning.
KeyCode = Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9]+$")]
# The W3C ``key`` text the press produces on the guest ("a", "A", "é"); empty for none.
KeyText = Annotated[str, Meta(max_length=16)]
MAX_STROKE_CHUNK: Final = 256
StrokePoint = tuple[U16, U16]


class PointerMove(Message):
    """Guest to host, while CONTROL is granted: move the host's pointer."""

    screen: U16
    x: U16
    y: U16


class PointerButton(Message):
    """Guest to host, while CONTROL is granted: press or release a button at a point."""

    screen: U16
    x: U16
    y: U16
    button: PointerButtonName
    pressed: Annotated[bool, Meta(description="false: released")]


class PointerWheel(Message):
    """Guest to host, while CONTROL is granted: scroll; 120 units are one notch."""

    dx: Annotated[I16, Meta(description="120 units are one notch; positive: right")]
    dy: Annotated[
        I16, Meta(description="120 units are one notch; positive: up, away from the user")
    ]


class KeyInput(Message):
    """Guest to host, while CONTROL is granted: a key pressed or released."""

    code: Annotated[
        KeyCode, Meta(description="W3C UI Events code: the key's place (KeyA, Enter, ShiftLeft)")
    ]
    key: Annotated[
        KeyText, Meta(description="W3C key value: the text typed on the guest, or the key's name")
    ]
    pressed: bool
    modifiers: Annotated[
        Annotated[frozenset[Modifier], Meta(max_length=4)],
        Meta(description="held on the guest; informative"),
    ] = frozenset()


class PointerPosition(Message):
    """Guest to host, always allowed: where the guest points, shown as a marker while the
    guest does not control the host. ``inside`` False: the pointer left the host's screen."""

    screen: U16
    x: U16
    y: U16
    inside: Annotated[bool, Meta(description="false: the pointer left the host's picture")] = True


class Unavailable(Message):
    """Host to guest: permissions this host cannot honour (no way to inject input, say),
    whatever it granted. Sent after SessionOpened; a later one replaces it."""

    permissions: Permissions
    reason: Annotated[Reason, Meta(description="for people")]


# --- drawing ------------------------------------------------------------------------------


class DrawStroke(Message):
    """Guest to host, while DRAW is granted: points added to stroke ``stroke`` (a new id
    starts a new stroke). ``color`` is 0xRRGGBB."""

    stroke: Annotated[U32, Meta(description="the stroke's id; a new id starts a new stroke")]
    screen: U16
    color: Annotated[Annotated[int, Meta(ge=0, le=0xFFFFFF)], Meta(description="0xRRGGBB")]
    points: Annotated[
        Annotated[list[StrokePoint], Meta(min_length=1, max_length=MAX_STROKE_CHUNK)],
        Meta(description="device pixels of screen, appended to the stroke"),
    ]


class DrawClear(Message):
    """Either way: every stroke of this session is gone (the guest asks, or the host says)."""


# --- encoding and decoding ------------------------------------------------------------------


def _all_messages() -> list[type[Message]]:
    found: list[type[Message]] = []
    todo = list(Message.__subclasses__())
    while todo:
        cls = todo.pop(0)
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def message_types() -> list[type[Message]]:
    """Every message class, handshake first."""
    return list(_MESSAGE_TYPES)


# Deterministic: sets (permissions, modifiers) go out sorted, so equal messages are equal bytes.
_encoder = msgspec.msgpack.Encoder(order="deterministic")


def encode(msg: Message) -> bytes:
    """The body of a frame (no length prefix)."""
    return _encoder.encode(msg)


def frame(msg: Message) -> bytes:
    """Length prefix plus body."""
    body = _encoder.encode(msg)
    return HEADER.pack(len(body)) + body


_BIN32 = 0xC6
_EMPTY_BIN = b"\xc4\x00"
_ZERO_COPY_MIN = 64 * 1024


def frame_parts(msg: Message) -> list[bytes | memoryview]:
    """The frame of ``msg`` in pieces that together are ``frame(msg)``'s bytes' equal.

    A large FileChunk's data is not copied: the pieces are the length prefix with the encoded
    fields, then the data itself. Its ``data`` is the last field, so its encoding ends with the
    data's MessagePack bin header and the bytes; the header is written as bin32, which every
    MessagePack decoder reads for any length.
    """
    if not isinstance(msg, FileChunk) or len(msg.data) < _ZERO_COPY_MIN:
        return [frame(msg)]
    head = _encoder.encode(FileChunk(msg.transfer_id, msg.offset, memoryview(b"")))
    if not head.endswith(_EMPTY_BIN):  # pragma: no cover - the field order is fixed above
        return [frame(msg)]
    data = msg.data
    head = head[: -len(_EMPTY_BIN)] + bytes([_BIN32]) + len(data).to_bytes(4, "big")
    return [HEADER.pack(len(head) + len(data)) + head, data]


def _union(classes: list[type[Any]]) -> Any:
    # msgspec needs a typing.Union; built at import time from the class list.
    u: Any = classes[0]
    for c in classes[1:]:
        u = u | c
    return u


class _Codec:
    """The msgspec decoders for every message class, built once when the first connection's
    Decoder is made (not with this module: start-up does not wait for them)."""

    def __init__(self, classes: list[type[Message]]) -> None:
        pre = [c for c in classes if c.pre_auth]
        post = [c for c in classes if not c.pre_auth or c is Error]
        # Tolerant twins for peers of a newer minor version: same tag and fields, unknown
        # fields skipped. A decoded twin is turned back into its public class.
        self.public_of: dict[type[Any], type[Message]] = {}
        tolerant: list[type[Any]] = []
        for cls in post:
            twin = type(
                cls.__name__,
                (cls,),
                {"__module__": __name__},
                forbid_unknown_fields=False,
                tag=cls.__name__,
            )
            self.public_of[twin] = cls
            tolerant.append(twin)
        self.pre = msgspec.msgpack.Decoder(_union(pre))
        self.post = msgspec.msgpack.Decoder(_union(post))
        self.tolerant = msgspec.msgpack.Decoder(_union(tolerant))


_MESSAGE_TYPES: Final = tuple(_all_messages())


@functools.cache
def _codec() -> _Codec:
    return _Codec(list(_MESSAGE_TYPES))


class Decoder:
    """Decodes one connection's frames.

    Before authentication only handshake messages are accepted, unknown fields are refused,
    and frames are at most the pre-auth limit. After ``authenticated(peer_version)`` the
    post-auth limit holds; unknown fields are ignored only if the peer's minor version is
    newer than ours (it may know fields we do not), and refused otherwise.
    """

    def __init__(
        self,
        pre_auth_limit: int = PRE_AUTH_FRAME_LIMIT,
        post_auth_limit: int = POST_AUTH_FRAME_LIMIT,
    ) -> None:
        self._codec = _codec()
        self._post_auth_limit = post_auth_limit
        self.limit = pre_auth_limit
        self.is_authenticated = False
        self._tolerant = False

    def authenticated(self, peer_version: tuple[int, int]) -> None:
        self.is_authenticated = True
        self.limit = self._post_auth_limit
        self._tolerant = peer_version[0] == PROTOCOL_VERSION[0] and (
            peer_version[1] > PROTOCOL_VERSION[1]
        )

    def body_length(self, header: bytes) -> int:
        """The body length announced by a 4-byte header; too_large when over the limit."""
        if len(header) != HEADER.size:
            raise WireError("malformed", "a frame header has 4 bytes")
        length: int = HEADER.unpack(header)[0]
        if length > self.limit:
            raise WireError("too_large", f"frame of {length} bytes over the limit of {self.limit}")
        return length

    def decode(self, body: bytes | bytearray) -> Message:
        if len(body) > self.limit:
            raise WireError(
                "too_large", f"frame of {len(body)} bytes over the limit of {self.limit}"
            )
        codec = self._codec
        if not self.is_authenticated:
            decoder = codec.pre
        elif self._tolerant:
            decoder = codec.tolerant
        else:
            decoder = codec.post
        try:
            msg: Message = decoder.decode(body)
        except msgspec.ValidationError as exc:
            text = str(exc)
            if text.endswith("at `$.t`") or "missing required field `t`" in text:
                phase = "after" if self.is_authenticated else "before"
                raise WireError("unknown_type", f"{text} ({phase} authentication)") from None
            if "unknown field" in text:
                raise WireError("unknown_field", text) from None
            raise WireError("invalid", text) from None
        except msgspec.MsgspecError as exc:
            raise WireError("malformed", str(exc)) from None
        except UnicodeDecodeError as exc:
            # msgspec reports a str that is not UTF-8 this way, not as a MsgspecError.
            raise WireError("malformed", f"a string is not UTF-8: {exc.reason}") from None
        public = codec.public_of.get(type(msg))
        if public is not None:
            msg = public(**{f: getattr(msg, f) for f in public.__struct_fields__})
        return msg
