"""Security suite, what a client shows and keeps: peer aliases sanitised, key files with loose
permissions refused. Each test names the protection it pins."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import keyring
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from anydesk_invite.cli_output import format_result
from anydesk_invite.net.channel import ConnectError
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.records import TxtError, parse_txt
from anydesk_invite.services.sessions.filenames import safe_file_name
from anydesk_invite.storage.home import Home
from anydesk_invite.storage.keystore import KeyStore, KeyStoreError
from tests.helpers.memory_keyring import FailingKeyring
from tests.helpers.nodes import Nodes
from tests.helpers.short_dir import short_dir

SPOOFS = [
    "ann\u202eda\x1b[2J\u200f@ad",
    "IT-Support@ad (your admin)",
    "alice@ad \u2713 verified 1 234 567 890",
    "\u0430lice@ad",  # Cyrillic a: looks like alice@ad
    "al\u200bice@ad",  # a zero-width space: would equal alice@ad once stripped
    "\ufeffalice@ad",
    "1234567890@ad",  # shaped like an ID
    "bob smith@ad",
]


@pytest.mark.parametrize("alias", SPOOFS)
async def test_a_hello_with_an_alias_outside_the_grammar_is_refused_not_cleaned(
    nodes: Nodes, alias: str
) -> None:
    ben = await nodes.make("ben")
    with pytest.raises(ConnectError, match="invalid"):
        await ben.dial_raw(alias=alias)
    good = await ben.dial_raw(alias="alice@ad")
    assert good.peer.alias == ben.alias
    await good.close()


@pytest.mark.parametrize("alias", SPOOFS)
def test_a_discovery_record_with_an_alias_outside_the_grammar_is_ignored(alias: str) -> None:
    identity = Identity.generate()
    txt = {
        b"v": b"1.0",
        b"id": identity.device_id.digits.encode(),
        b"alias": alias.encode(),
        b"fp": identity.fingerprint.hex().encode(),
    }
    with pytest.raises(TxtError):
        parse_txt(txt)
    txt[b"alias"] = b"alice@ad"
    assert parse_txt(txt)[2] == "alice@ad"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
async def test_a_key_file_with_loose_permissions_is_refused(tmp_path: Path, mode: int) -> None:
    keyring.set_keyring(FailingKeyring())  # headless: the key lives in the file
    home = Home.resolve(str(tmp_path / "home"))
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    home.key_file.write_bytes(pem)
    os.chmod(home.key_file, mode)
    with pytest.raises(KeyStoreError, match="open to group or others"):
        await KeyStore(home).load_or_create()
    assert home.key_file.read_bytes() == pem


def test_a_runtime_dir_planted_by_another_local_user_neither_stops_nor_hijacks_the_client(
    tmp_path: Path,
) -> None:
    """Another user creates the old predictable /tmp/anydesk-invite-<uid> first."""
    with short_dir() as tmp:
        planted = tmp / f"anydesk-invite-{os.geteuid()}"
        planted.mkdir(mode=0o777)
        os.chmod(planted, 0o777)
        os.chown(planted, 65534, 65534)
        home = Home.resolve(str(tmp_path / "h"), environ={}, tmp_base=tmp)
        socket_path = home.control_socket_path
        assert not socket_path.is_relative_to(planted)
        st = os.lstat(socket_path.parent)
        assert st.st_uid == os.geteuid()
        assert st.st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "offered",
    [
        "invoice\u202efdp.exe",  # right-to-left override: shows as invoiceexe.pdf
        "invoice\u200f.pdf\u200b.exe",
        "\ufeffreport.pdf",
        "a\u2066b\u2069.txt",
        "bell\x07.txt",
    ],
)
def test_a_received_file_name_keeps_no_invisible_or_bidi_character(offered: str) -> None:
    saved = safe_file_name(offered)
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in saved)
    assert saved == unicodedata.normalize("NFC", saved)
    assert saved.endswith(offered.rsplit(".", 1)[1])


def test_a_decomposed_file_name_is_saved_composed() -> None:
    assert safe_file_name("Cafe\u0301.txt") == "Caf\u00e9.txt"


def test_a_file_name_with_a_bidi_override_is_listed_escaped() -> None:
    listed = format_result(
        "transfers",
        [
            {
                "id": "ab" * 16,
                "direction": "receive",
                "state": "offered",
                "done": 0,
                "size": 10,
                "name": "invoice\u202efdp.exe",
            }
        ],
    )
    assert "invoice\\u202efdp.exe" in listed
    assert "\u202e" not in listed
