"""The conformance runner's command line: what it takes and how it refuses."""

from __future__ import annotations

import io

import pytest

from anydesk_invite import conformance


def test_list_names_every_rule_with_its_section() -> None:
    out = io.StringIO()
    assert conformance.main(["--list"], out=out) == conformance.EXIT_OK
    lines = out.getvalue().splitlines()
    assert [line.split("\t")[0] for line in lines] == list(conformance.RULES)
    assert "session/end\tSession (answer)" in lines


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["127.0.0.1:7070"],
        ["127.0.0.1", "--fingerprint", "00" * 32],
        ["127.0.0.1:0", "--fingerprint", "00" * 32],
        ["127.0.0.1:7070", "--fingerprint", "00" * 31],
        ["127.0.0.1:7070", "--fingerprint", "zz" * 32],
        ["127.0.0.1:7070", "--fingerprint", "00" * 32, "--rule", "no/such-rule"],
    ],
)
def test_bad_arguments_are_a_usage_error(argv: list[str]) -> None:
    assert conformance.main(argv, out=io.StringIO()) == conformance.EXIT_USAGE
