"""The command line's DNS discovery options: checked when parsed, handed to the client to
keep, and refused with a command (they only apply when starting)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from anydesk_invite import cli
from anydesk_invite.options import Options


def run(*argv: str) -> tuple[int, str, list[Options]]:
    out, err = io.StringIO(), io.StringIO()
    seen: list[Options] = []
    code = cli.main(list(argv), stdout=out, stderr=err, launch=lambda o: seen.append(o) or 0)
    return code, err.getvalue(), seen


def test_dns_discovery_options_are_handed_over_to_be_kept(tmp_path: Path) -> None:
    secret = tmp_path / "fleet.secret"
    secret.write_text("c2VjcmV0c2VjcmV0c2VjcmV0\n")
    code, err, (options,) = run(
        "--home", str(tmp_path / "h"),
        "--dns-sd-server", "10.0.0.53:5353",
        "--dns-sd-domain", "clients.example.org",
        "--tsig-key", "fleet-key:hmac-sha512",
        "--tsig-secret-file", str(secret),
        "--dns-sd-ttl", "60",
    )  # fmt: skip
    assert code == 0, err
    assert options.wide_area_changes == (
        ("server", "10.0.0.53:5353"),
        ("domain", "clients.example.org"),
        ("key_name", "fleet-key"),
        ("algorithm", "hmac-sha512"),
        ("ttl", 60),
    )
    assert options.tsig_secret_file == str(secret)


def test_none_and_auto_clear_the_server_and_the_domain(tmp_path: Path) -> None:
    code, _, (options,) = run(
        "--home", str(tmp_path / "h"), "--dns-sd-server", "none", "--dns-sd-domain", "auto"
    )
    assert code == 0
    assert options.wide_area_changes == (("server", ""), ("domain", ""))


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--dns-sd-server", "dns.example.org"], "must be an IP address"),
        (["--dns-sd-domain", "bad..domain"], "bad label"),
        (["--tsig-key", "k:hmac-md5"], "hmac-sha256"),
        (["--dns-sd-ttl", "1"], "is 2 to"),
        (["--tsig-secret-file", "/nonexistent/secret"], "is not a file"),
        (["--dns-sd-server", "10.0.0.53", "peers"], "only applies when starting"),
    ],
)
def test_bad_dns_discovery_options_are_usage_errors(
    argv: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err, seen = run("--home", str(tmp_path / "h"), *argv)
    assert code == 2 and seen == []
    assert needle in err + capsys.readouterr().err
