"""The email invitation's mailto: URL and the strict parsing of its connect link."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

from anydesk_invite.core.email_invite import (
    ConnectLinkError,
    connect_link,
    invitation_text,
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


def test_the_invitation_text_is_the_documented_message_line_by_line() -> None:
    text = invitation_text(ID, "anna@ad", FP, PROJECT)
    assert text == "\r\n".join(
        [
            "Hello,",
            "",
            f"I would like you to connect to my computer: anna@ad (ID {ID.grouped()}).",
            "",
            f"1. Install LAN Invite: {PROJECT}",
            f"2. Paste my ID {ID.grouped()} into the Connect field and press Connect,",
            "   or open this link:",
            f"   adinvite://connect?id={ID.digits}&fp={FP.hex()}",
            "",
            "When you connect, I accept the request on my side.",
        ]
    )


def test_without_an_alias_the_invitation_names_the_id_alone() -> None:
    text = invitation_text(ID, "", FP, PROJECT)
    assert f"I would like you to connect to my computer: ID {ID.grouped()}.\r\n" in text
    assert "(ID" not in text


def test_the_mailto_url_is_exactly_the_encoded_recipient_subject_and_body() -> None:
    url = mailto_url(ID, "anna@ad", FP, PROJECT, to=" bob@example.org ")
    body = invitation_text(ID, "anna@ad", FP, PROJECT)
    subject = "Connect%20to%20my%20computer%20with%20LAN%20Invite"
    assert url == f"mailto:bob@example.org?subject={subject}&body={quote(body, safe='')}"
    # The subject and body keep no character unencoded that a mail client could split on.
    assert "/" not in url.split("&body=")[1]


def test_mailto_says_which_recipient_is_not_an_address() -> None:
    with pytest.raises(ValueError) as caught:
        mailto_url(ID, "anna@ad", FP, PROJECT, to="bob")
    assert str(caught.value) == "not an email address: 'bob'"


def test_connect_link_says_why_it_refuses_a_fingerprint() -> None:
    with pytest.raises(ValueError) as caught:
        connect_link(ID, FP[:31])
    assert str(caught.value) == "a fingerprint is 32 bytes"
    with pytest.raises(ValueError) as caught:
        connect_link(ID, OTHER_FP)
    assert str(caught.value) == "the ID does not belong to this fingerprint"


def test_a_connect_link_is_read_in_any_case_with_blanks_around_and_a_bare_slash() -> None:
    link = connect_link(ID, FP)
    assert parse_connect_link(f"  {link}\n") == (ID, FP)
    upper = link.replace("adinvite://connect", "ADINVITE://CONNECT/")
    assert parse_connect_link(upper) == (ID, FP)


@pytest.mark.parametrize(
    ("link", "message"),
    [
        # 512 characters are read (and found malformed), 513 are refused unread.
        ("adinvite://connect?" + "x" * 493, "the link's parameters are malformed"),
        ("adinvite://connect?" + "x" * 494, "the link is too long to be a connect link"),
        (f"http://connect?id={ID.digits}&fp={FP.hex()}", "a connect link starts with adinvite://"),
        (
            f"adinvite://connect/x?id={ID.digits}&fp={FP.hex()}",
            "a connect link starts with adinvite://connect?",
        ),
        (f"adinvite://connect?id={ID.digits}&fp={FP.hex()}#f", "a connect link has no #fragment"),
        (f"adinvite://connect?id={ID.digits}&fp", "the link's parameters are malformed"),
        (
            f"adinvite://connect?id={ID.digits}&&fp={FP.hex()}",
            "the link's parameters are malformed",
        ),
        (
            f"adinvite://connect?id={ID.digits}&fp={FP.hex()}&x=",
            "a connect link has exactly the parameters id and fp",
        ),
        (
            f"adinvite://connect?id={ID.digits}&fp={FP.hex()[:-2]}",
            "the link's fingerprint is not 64 hexadecimal digits",
        ),
        (
            f"adinvite://connect?id={ID.digits}&fp={OTHER_FP.hex()}",
            "the link's ID does not belong to its fingerprint",
        ),
    ],
)
def test_a_refused_connect_link_gets_the_whole_message_shown_to_the_user(
    link: str, message: str
) -> None:
    with pytest.raises(ConnectLinkError) as caught:
        parse_connect_link(link)
    assert str(caught.value) == message
