"""What an administrator reads when a custom client settings file is refused: the whole message,
the line it names, the file named as the source, and the size limit at its exact bound (also for
a file whose size the system does not report)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.policy import DiscoveryMode, Override, Policy
from anydesk_invite.core.wide_area import WideAreaSettings
from anydesk_invite.storage.policy_files import (
    POLICY_FILE_MAX_BYTES,
    load_policy_file,
    parse_policy,
)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to own files as root")


def _write(path: Path, data: str | bytes, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)
    return path


def _broken(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    policy = parse_policy(data, "p.toml", trusted=False)
    assert policy.broken is not None
    assert policy.sources == ("p.toml",)  # a broken file is still named as a source
    return policy.broken


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "\n\n[extras]\n",
            "p.toml:3: unknown section 'extras' (known: permissions, invitations, discovery, "
            "wide_area)",
        ),
        (
            '[permissions]\nscreen = "force_on"\n',
            "p.toml:2: unknown permission 'screen' (known: control, clipboard, file_transfer, "
            "system_info, draw)",
        ),
        (
            "[permissions]\ncontrol = 1\n",
            "p.toml:2: permissions.control must be a string, one of force_on, force_off, "
            "default_on, default_off",
        ),
        (
            "[invitations]\naccept_from = 1\n",
            "p.toml:2: invitations.accept_from must be a string, one of everyone, address_book, "
            "nobody",
        ),
        (
            "[discovery]\nmode = 1\n",
            "p.toml:2: discovery.mode must be a string, one of on, hidden, off",
        ),
    ],
)
def test_a_refused_setting_gets_the_whole_message_with_its_line(text: str, message: str) -> None:
    assert _broken(text) == message


def test_a_key_in_single_quotes_is_found_on_its_own_line() -> None:
    text = "[permissions]\n# the next one is wrong\n'control' = \"always\"\n"
    assert _broken(text).startswith("p.toml:3: permissions.control is one of ")


def test_a_key_whose_line_cannot_be_found_is_reported_at_line_1() -> None:
    # An escaped quote in a key is beyond the line finder: the message still names the file.
    text = '# settings\n\n"x\\"y" = 1\n'
    assert _broken(text) == (
        "p.toml:1: unknown section 'x\"y' (known: permissions, invitations, discovery, wide_area)"
    )


def test_text_that_is_not_utf8_is_reported_at_its_own_line_not_a_later_one() -> None:
    assert _broken(b'\n\n[discovery]\nmode = "\xff"\n\n\n# more\n') == "p.toml:4: not UTF-8 text"
    assert _broken(b"\n\xff\n") == "p.toml:2: not UTF-8 text"


def test_invalid_toml_still_names_the_file_as_the_source() -> None:
    assert _broken("[discovery\n").startswith("p.toml:1: invalid TOML: ")


# -- reading the file ----------------------------------------------------------------------------


def test_a_folder_in_place_of_the_file_is_not_a_regular_file(tmp_path: Path) -> None:
    folder = tmp_path / "policy.toml"
    folder.mkdir()
    policy = load_policy_file(folder, trusted=False)
    assert policy.broken == f"{folder}: cannot read: not a regular file"
    assert policy.sources == (str(folder),)


def test_a_file_of_exactly_the_limit_is_read_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    tail = '[discovery]\nmode = "hidden"\n'
    at_limit = "#" * (POLICY_FILE_MAX_BYTES - len(tail) - 1) + "\n" + tail
    assert len(at_limit) == POLICY_FILE_MAX_BYTES
    path = _write(tmp_path / "p.toml", at_limit)
    policy = load_policy_file(path, trusted=False)
    assert policy.broken is None
    assert policy.max_discovery is DiscoveryMode.HIDDEN
    _write(path, "#" + at_limit)
    assert load_policy_file(path, trusted=False).broken == (
        f"{path}: cannot read: larger than {POLICY_FILE_MAX_BYTES} bytes"
    )


def test_a_file_read_in_several_pieces_is_put_together_unchanged(tmp_path: Path) -> None:
    # The section header straddles the 16 KiB boundary between two reads.
    text = "#" * 16378 + "\n" + '[discovery]\nmode = "off"\n'
    path = _write(tmp_path / "p.toml", text)
    policy = load_policy_file(path, trusted=False)
    assert policy.broken is None
    assert policy.max_discovery is DiscoveryMode.OFF


def test_a_file_that_reports_no_size_is_still_cut_off_at_the_limit() -> None:
    # Files under /proc report a size of 0: another process's environment of 70 KB is one.
    env = {"PAD": "x" * 70_000}
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; print('ready', flush=True); sys.stdin.read()"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"  # its environment is in place now
        path = Path(f"/proc/{child.pid}/environ")
        assert path.stat().st_size == 0
        assert load_policy_file(path, trusted=False).broken == (
            f"{path}: cannot read: larger than {POLICY_FILE_MAX_BYTES} bytes"
        )
    finally:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.close()
        child.wait(timeout=30)
        child.stdout.close()


@needs_root
def test_a_system_file_others_may_write_says_its_mode(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    etc.mkdir(mode=0o755)
    os.chmod(etc, 0o755)
    path = _write(etc / "policy.toml", '[permissions]\ndraw = "force_on"\n', mode=0o664)
    policy = load_policy_file(path, trusted=True)
    assert policy.broken == (
        f"{path}: writable by group or others (mode 0664), so it is not trusted"
    )
    assert policy.sources == (str(path),)
    os.chmod(path, 0o644)
    os.chmod(etc, 0o775)
    assert load_policy_file(path, trusted=True).broken == (
        f"{path}: its folder {etc} is writable by someone other than root"
    )
    os.chmod(etc, 0o755)
    trusted = load_policy_file(path, trusted=True)
    assert trusted.broken is None
    assert trusted.permissions == {Permission.DRAW: Override.FORCE_ON}


# -- the [wide_area] table ------------------------------------------------------------------------


def _system(text: str) -> Policy:
    return parse_policy(text.encode(), "p.toml", trusted=True)


def _system_broken(text: str) -> str:
    policy = _system(text)
    assert policy.broken is not None
    assert policy.effective_wide_area(WideAreaSettings(server="10.9.9.9")) == WideAreaSettings()
    return policy.broken


def test_the_system_file_sets_every_wide_area_value_it_names() -> None:
    policy = _system(
        "[wide_area]\n"
        'server = "10.0.0.53:5353"\n'
        'domain = "Clients.Example.org."\n'
        'key_name = "Fleet-Key"\n'
        'algorithm = "HMAC-SHA512"\n'
        'secret_file = "/etc/anydesk-invite/tsig.secret"\n'
        "ttl = 2\n"
    )
    assert policy.broken is None
    assert policy.wide_area == WideAreaSettings(
        domain="clients.example.org",
        server="10.0.0.53:5353",
        key_name="fleet-key",
        algorithm="hmac-sha512",
        ttl=2,
    )
    assert policy.wide_area_secret_file == "/etc/anydesk-invite/tsig.secret"


def test_a_server_alone_gets_no_domain_no_key_and_the_default_algorithm() -> None:
    policy = _system('[wide_area]\nserver = "10.0.0.53"\nttl = 86400\n')
    assert policy.wide_area == WideAreaSettings(server="10.0.0.53:53", ttl=86400)
    assert policy.wide_area is not None
    assert (policy.wide_area.domain, policy.wide_area.key_name) == ("", "")
    assert policy.wide_area.algorithm == "hmac-sha256"
    assert policy.wide_area_secret_file == ""


def test_switching_it_off_alone_sets_no_server_and_no_key_file() -> None:
    policy = parse_policy(b"[wide_area]\nenabled = false\n", "home.toml", trusted=False)
    assert policy.broken is None
    assert (policy.wide_area, policy.wide_area_secret_file) == (None, "")
    assert not policy.wide_area_allowed
    on = parse_policy(b"[wide_area]\nenabled = true\n", "home.toml", trusted=False)
    assert on.wide_area_allowed


@pytest.mark.parametrize("key", ["domain", "key_name", "algorithm", "secret_file"])
def test_each_setting_without_a_server_is_refused_at_its_line(key: str) -> None:
    text = f'[wide_area]\nenabled = true\n{key} = "/x"\n'
    assert _system_broken(text) == "p.toml:3: wide_area needs a server for the other keys"


def test_a_ttl_without_a_server_is_refused_at_its_line() -> None:
    text = "[wide_area]\nenabled = true\nttl = 60\n"
    assert _system_broken(text) == "p.toml:3: wide_area needs a server for the other keys"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            'zone = "x"',
            "p.toml:3: unknown key 'zone' (known: enabled, domain, server, key_name, algorithm, "
            "secret_file, ttl)",
        ),
        ('enabled = "yes"', "p.toml:3: wide_area.enabled must be true or false"),
        ('ttl = "60"', "p.toml:3: wide_area.ttl must be a whole number of seconds"),
        ("ttl = true", "p.toml:3: wide_area.ttl must be a whole number of seconds"),
        ("ttl = 1", "p.toml:3: wide_area.ttl is 2 to 86400 seconds"),
        ("ttl = 86401", "p.toml:3: wide_area.ttl is 2 to 86400 seconds"),
        ("domain = 5", "p.toml:3: wide_area.domain must be a string"),
        ('secret_file = "tsig.secret"', "p.toml:3: wide_area.secret_file must be absolute"),
        ('domain = "a..b"', "p.toml:3: the domain 'a..b' has a bad label ''"),
        ('key_name = "k..k"', "p.toml:3: the TSIG key name 'k..k' has a bad label ''"),
    ],
)
def test_a_bad_wide_area_value_gets_the_whole_message_at_its_line(lines: str, message: str) -> None:
    assert _system_broken(f'[wide_area]\nserver = "10.0.0.53"\n{lines}\n') == message


def test_a_server_that_is_not_text_is_refused_at_its_line() -> None:
    assert _system_broken("[wide_area]\n\nserver = 53\n") == (
        "p.toml:3: wide_area.server must be a string"
    )
