"""The email invitation's mailto: URL and the strict parsing of its connect link."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from anydesk_invite.core.email_invite import (
    ConnectLinkError,
    connect_link,
    mailto_url,
    parse_connect_link,
)
from anydesk_invite.core.ids import DeviceId

FP = hashlib.sha256(b"inviter key").digest()
ID = DeviceId.from_fingerprint(FP)
OTHER_FP = hashlib.sha256(b"someone else").digest()
PROJECT = "https://example.org/anydesk-invite"


def _body(url: str) -> str:
    parts = urlsplit(url)
    return parse_qs(parts.query, strict_parsing=True)["body"][0]


def test_mailto_body_holds_grouped_id_alias_project_and_connect_link() -> None:
    url = mailto_url(ID, "anna@ad", FP, PROJECT)
    body = _body(url)
    assert ID.grouped() in body
    assert "anna@ad" in body
    assert PROJECT in body
    assert connect_link(ID, FP) in body
    assert "Connect" in body


def test_mailto_is_rfc6068_with_everything_percent_encoded() -> None:
    url = mailto_url(ID, "anna@ad", FP, PROJECT, to="bob@example.org")
    assert url.startswith("mailto:bob@example.org?subject=")
    query = urlsplit(url).query
    assert " " not in query and "\n" not in query and "/" not in query and ":" not in query
    assert "%0D%0A" in query  # line breaks as CRLF, as RFC 6068 asks
    subject = parse_qs(query)["subject"][0]
    assert subject == unquote(query.split("&")[0].removeprefix("subject="))
    assert "LAN Invite" in subject


def test_mailto_refuses_a_recipient_that_could_inject_headers() -> None:
    with pytest.raises(ValueError):
        mailto_url(ID, "anna@ad", FP, PROJECT, to="bob@example.org?bcc=eve@example.org")
    with pytest.raises(ValueError):
        mailto_url(ID, "anna@ad", FP, PROJECT, to="bob@example.org\r\nBcc: eve")


def test_mailto_without_alias_still_names_the_id() -> None:
    assert ID.grouped() in _body(mailto_url(ID, "", FP, PROJECT))


def test_connect_link_round_trips() -> None:
    link = connect_link(ID, FP)
    assert link == f"adinvite://connect?id={ID.digits}&fp={FP.hex()}"
    assert parse_connect_link(link) == (ID, FP)


def test_connect_link_refuses_an_id_that_is_not_the_keys() -> None:
    with pytest.raises(ValueError):
        connect_link(ID, OTHER_FP)


@pytest.mark.parametrize(
    ("link", "says"),
    [
        (f"http://connect?id={ID.digits}&fp={FP.hex()}", "starts with"),
        (f"adinvite://invite?id={ID.digits}&fp={FP.hex()}", "starts with"),
        (f"adinvite://connect/x?id={ID.digits}&fp={FP.hex()}", "starts with"),
        (f"adinvite://connect?id={ID.digits}", "exactly"),
        (f"adinvite://connect?id={ID.digits}&fp={FP.hex()}&x=1", "exactly"),
        (f"adinvite://connect?id={ID.digits}&id={ID.digits}&fp={FP.hex()}", "exactly"),
        (f"adinvite://connect?id={ID.digits[:-1]}&fp={FP.hex()}", "ID is not valid"),
        (f"adinvite://connect?id={ID.digits}&fp={FP.hex()[:-2]}", "64 hexadecimal"),
        (f"adinvite://connect?id={ID.digits}&fp={'zz' * 32}", "64 hexadecimal"),
        (f"adinvite://connect?id={ID.digits}&fp={OTHER_FP.hex()}", "does not belong"),
        (f"adinvite://connect?id={ID.digits}&fp={FP.hex()}#frag", "fragment"),
        ("adinvite://connect?" + "x" * 600, "too long"),
    ],
)
def test_parse_connect_link_refuses_malformed_links(link: str, says: str) -> None:
    with pytest.raises(ConnectLinkError, match=says):
        parse_connect_link(link)


def test_parse_connect_link_reports_a_typo_in_the_id() -> None:
    digits = ID.digits
    typo = digits[:3] + str((int(digits[3]) + 1) % 10) + digits[4:]
    with pytest.raises(ConnectLinkError, match="check digit"):
        parse_connect_link(f"adinvite://connect?id={typo}&fp={FP.hex()}")
