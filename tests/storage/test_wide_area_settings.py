"""DNS discovery settings: the admin's [wide_area] policy, the user's stored choice, and the
TSIG secret kept out of the database (keyring, or a 0600 file in the home)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import keyring
import pytest

from anydesk_invite.core.policy import Policy, merge_policies
from anydesk_invite.core.wide_area import WideAreaError, WideAreaSettings
from anydesk_invite.services.wide_area import wide_area_choice
from anydesk_invite.storage.db import Database
from anydesk_invite.storage.policy_files import parse_policy
from anydesk_invite.storage.settings import StoredSettings
from anydesk_invite.storage.tsig_secret import (
    SERVICE,
    TsigSecretError,
    TsigSecretStore,
    read_secret_file,
)
from tests.helpers.memory_keyring import FailingKeyring, MemoryKeyring

SECRET = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"
FLEET = b"""
[wide_area]
server = "10.0.0.53"
domain = "Clients.Example.org."
key_name = "fleet-key"
secret_file = "/etc/anydesk-invite/tsig.secret"
ttl = 60
"""


def test_the_system_wide_file_points_the_fleet_at_a_server_domain_and_key() -> None:
    policy = parse_policy(FLEET, "/etc/anydesk-invite/policy.toml", trusted=True)
    assert policy.broken is None
    assert policy.wide_area == WideAreaSettings(
        domain="clients.example.org", server="10.0.0.53:53", key_name="fleet-key", ttl=60
    )
    assert policy.wide_area_secret_file == "/etc/anydesk-invite/tsig.secret"
    chosen = WideAreaSettings(server="10.9.9.9")
    assert policy.effective_wide_area(chosen) == policy.wide_area


def test_a_restricting_file_may_only_switch_it_off() -> None:
    policy = parse_policy(FLEET, "home/policy.toml", trusted=False)
    assert policy.broken == "home/policy.toml:3: wide_area.server may be set only in the " \
        "system-wide file"  # fmt: skip
    off = parse_policy(b"[wide_area]\nenabled = false\n", "home/policy.toml", trusted=False)
    assert off.broken is None and not off.wide_area_allowed
    merged = merge_policies(parse_policy(FLEET, "sys", trusted=True), [off])
    assert merged.effective_wide_area(WideAreaSettings(server="10.0.0.1")) == WideAreaSettings()


@pytest.mark.parametrize(
    ("text", "line", "why"),
    [
        (b'[wide_area]\nserver = "dns.example.org"\n', 2, "must be an IP address"),
        (b'[wide_area]\nserver = "10.0.0.1"\nalgorithm = "hmac-md5"\n', 3, "hmac-sha256"),
        (b'[wide_area]\nserver = "10.0.0.1"\nttl = 1\n', 3, "ttl is 2 to"),
        (b'[wide_area]\nenabled = "yes"\n', 2, "true or false"),
        (b'[wide_area]\ndomain = "x.org"\n', 2, "needs a server"),
        (b'[wide_area]\nserver = "10.0.0.1"\nsecret_file = "tsig"\n', 3, "absolute"),
        (b'[wide_area]\nzone = "x"\n', 2, "unknown key"),
    ],
)
def test_a_bad_wide_area_table_breaks_the_policy_and_names_the_line(
    text: bytes, line: int, why: str
) -> None:
    policy = parse_policy(text, "p.toml", trusted=True)
    assert policy.broken is not None and policy.broken.startswith(f"p.toml:{line}: ")
    assert why in policy.broken
    # Broken fails closed: no DNS discovery at all.
    assert policy.effective_wide_area(WideAreaSettings(server="10.0.0.1")) == WideAreaSettings()


def test_settings_are_normalised_and_bad_ones_refused() -> None:
    ok = WideAreaSettings(domain="A.Example.", server="[fd00::53]:5353", key_name="k").checked()
    assert (ok.domain, ok.server) == ("a.example", "[fd00::53]:5353")
    with pytest.raises(WideAreaError, match="bad label"):
        WideAreaSettings(domain="a..b", server="10.0.0.1").checked()
    with pytest.raises(WideAreaError, match="bad port"):
        WideAreaSettings(server="10.0.0.1:99999").checked()
    assert WideAreaSettings(domain="ignored").checked() == WideAreaSettings()


def test_the_users_choice_is_stored_without_any_secret(tmp_path: Path) -> None:
    db = Database.open(tmp_path / "db.sqlite")
    try:
        chosen = WideAreaSettings(domain="c.example", server="10.0.0.1:53", key_name="k")
        db.settings.set(StoredSettings.WIDE_AREA, chosen)
        assert db.settings.get(StoredSettings.WIDE_AREA) == chosen
    finally:
        db.close()
    assert SECRET.encode() not in (tmp_path / "db.sqlite").read_bytes()


def test_the_secret_goes_to_the_keyring_when_there_is_one(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    store = TsigSecretStore(tmp_path)
    assert store.set("fleet-key", SECRET) == "keyring"
    assert memory_keyring.store[(SERVICE, "fleet-key")] == SECRET
    assert not store.file.exists()
    assert store.get("fleet-key") == SECRET


def test_without_a_keyring_the_secret_goes_to_a_0600_file_in_the_home(tmp_path: Path) -> None:
    keyring.set_keyring(FailingKeyring())
    store = TsigSecretStore(tmp_path)
    assert store.set("fleet-key", SECRET) == str(tmp_path / "tsig-secret")
    assert stat.S_IMODE(os.stat(store.file).st_mode) == 0o600
    assert store.get("fleet-key") == SECRET
    os.chmod(store.file, 0o644)
    with pytest.raises(TsigSecretError, match="readable or writable by others"):
        store.get("fleet-key")


def test_a_secret_must_be_base64_of_a_sensible_length(tmp_path: Path) -> None:
    store = TsigSecretStore(tmp_path)
    with pytest.raises(TsigSecretError, match="base64"):
        store.set("k", "not base64!")
    with pytest.raises(TsigSecretError, match="bytes"):
        store.set("k", "c2hvcnQ=")


def test_an_admins_secret_file_in_bind_syntax_is_read(tmp_path: Path) -> None:
    path = tmp_path / "tsig.secret"
    path.write_text(f'# fleet key\nsecret "{SECRET}";\n')
    os.chmod(path, 0o640)
    assert read_secret_file(path) == SECRET


def test_the_policys_secret_file_is_used_and_a_missing_one_means_browse_only(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    secret_path = tmp_path / "tsig.secret"
    secret_path.write_text(SECRET + "\n")
    os.chmod(secret_path, 0o600)
    admin = WideAreaSettings(domain="c.example", server="10.0.0.1", key_name="k").checked()
    policy = Policy(wide_area=admin, wide_area_secret_file=str(secret_path))
    store = TsigSecretStore(tmp_path)
    assert wide_area_choice(policy, WideAreaSettings(), store).secret == SECRET
    secret_path.unlink()
    choice = wide_area_choice(policy, WideAreaSettings(), store)
    assert choice.secret is None and "browsing only" in (choice.problem or "")
    # The user's own settings use the keyring's secret.
    store.set("k", SECRET)
    assert wide_area_choice(Policy(), admin, store).secret == SECRET
