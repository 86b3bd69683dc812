"""The email invitation: an RFC 6068 mailto: URL and the connect link it carries.

The connect link names the inviter's ID and key fingerprint, so whoever opens it pins the
right key on first contact instead of trusting the ID alone.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit

from anydesk_invite.core.ids import FINGERPRINT_LENGTH, DeviceId, IdError
from anydesk_invite.core.product import DISPLAY_NAME

LINK_SCHEME = "adinvite"
_LINK_ACTION = "connect"
_LINK_MAX = 512
_HEX_FP = re.compile(rf"[0-9a-fA-F]{{{2 * FINGERPRINT_LENGTH}}}")
_ADDRESS = re.compile(r"[^\s<>\"@,;:]+@[^\s<>\"@,;:]+")

SUBJECT = f"Connect to my computer with {DISPLAY_NAME}"


class ConnectLinkError(ValueError):
    """A connect link that is malformed or whose ID does not belong to its fingerprint."""


def connect_link(device_id: DeviceId, fingerprint: bytes) -> str:
    """``adinvite://connect?id=<digits>&fp=<hex fingerprint>``."""
    if len(fingerprint) != FINGERPRINT_LENGTH:
        raise ValueError("a fingerprint is 32 bytes")
    if DeviceId.from_fingerprint(fingerprint) != device_id:
        raise ValueError("the ID does not belong to this fingerprint")
    return f"{LINK_SCHEME}://{_LINK_ACTION}?id={device_id.digits}&fp={fingerprint.hex()}"


def parse_connect_link(url: str) -> tuple[DeviceId, bytes]:
    """The ID and fingerprint of a connect link; ConnectLinkError says what is wrong."""
    text = url.strip()
    if len(text) > _LINK_MAX:
        raise ConnectLinkError("the link is too long to be a connect link")
    parts = urlsplit(text)
    if parts.scheme.lower() != LINK_SCHEME:
        raise ConnectLinkError(f"a connect link starts with {LINK_SCHEME}://")
    if parts.netloc.lower() != _LINK_ACTION or parts.path not in ("", "/"):
        raise ConnectLinkError(f"a connect link starts with {LINK_SCHEME}://{_LINK_ACTION}?")
    if parts.fragment:
        raise ConnectLinkError("a connect link has no #fragment")
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise ConnectLinkError("the link's parameters are malformed") from None
    keys = [k for k, _ in pairs]
    if sorted(keys) != ["fp", "id"]:
        raise ConnectLinkError("a connect link has exactly the parameters id and fp")
    values = dict(pairs)
    try:
        device_id = DeviceId(values["id"])
    except IdError as e:
        raise ConnectLinkError(f"the link's ID is not valid: {e}") from None
    if not _HEX_FP.fullmatch(values["fp"]):
        raise ConnectLinkError("the link's fingerprint is not 64 hexadecimal digits")
    fingerprint = bytes.fromhex(values["fp"])
    if DeviceId.from_fingerprint(fingerprint) != device_id:
        raise ConnectLinkError("the link's ID does not belong to its fingerprint")
    return device_id, fingerprint


def invitation_text(device_id: DeviceId, alias: str, fingerprint: bytes, project_url: str) -> str:
    """The message body: who to connect to, how, and the link that does it."""
    name = f"{alias} (ID {device_id.grouped()})" if alias else f"ID {device_id.grouped()}"
    lines = [
        "Hello,",
        "",
        f"I would like you to connect to my computer: {name}.",
        "",
        f"1. Install {DISPLAY_NAME}: {project_url}",
        f"2. Paste my ID {device_id.grouped()} into the Connect field and press Connect,",
        "   or open this link:",
        f"   {connect_link(device_id, fingerprint)}",
        "",
        "When you connect, I accept the request on my side.",
    ]
    return "\r\n".join(lines)


def mailto_url(
    device_id: DeviceId, alias: str, fingerprint: bytes, project_url: str, to: str = ""
) -> str:
    """An RFC 6068 mailto: URL with subject and body percent-encoded."""
    recipient = to.strip()
    if recipient and not _ADDRESS.fullmatch(recipient):
        raise ValueError(f"not an email address: {recipient!r}")
    body = invitation_text(device_id, alias, fingerprint, project_url)
    return (
        f"mailto:{quote(recipient, safe='@')}"
        f"?subject={quote(SUBJECT, safe='')}&body={quote(body, safe='')}"
    )
