"""Every error code and every "closes with" rule of docs/PROTOCOL.md, exercised over real TLS.

The rules are read from the document's "Conformance rules" table; each is run by the
conformance runner (anydesk_invite/conformance/) against a whole client on 127.0.0.1, which
accepts invitations and requests at once as its user would. The table and the runner's rules
must name the same rules, and every error code the document defines must be the answer of one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from anydesk_invite import conformance
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.limits import Limits
from anydesk_invite.services.facade import ActionRefused
from anydesk_invite.services.views import Direction, InvitationView
from tests.helpers.nodes import LOOPBACK, Node, Nodes, nodes_for

DOC = Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md"
_RULES_RE = re.compile(r"<!-- rules -->\n(?P<body>.*?)<!-- /rules -->", re.DOTALL)
_ROW_RE = re.compile(
    r"^\| `(?P<name>[a-z/-]+)`(?P<answer> \(answer\))? \| (?P<section>[^|]+?) \| "
    r"(?P<sends>[^|]+?) \| (?P<answers>.+) \|$"
)
_ERROR_RE = re.compile(r'Error\((?:code=)?"(?P<code>[a-z_]+)"')


@dataclass(frozen=True)
class DocRule:
    name: str
    section: str
    answer: bool
    sends: str
    answers: str

    def __str__(self) -> str:
        return self.name


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def doc_rules() -> list[DocRule]:
    block = _RULES_RE.search(_doc())
    assert block is not None, "PROTOCOL.md has no <!-- rules --> table"
    rules = []
    for line in block["body"].splitlines()[2:]:
        m = _ROW_RE.match(line)
        assert m is not None, f"not a rule row: {line}"
        rules.append(DocRule(m["name"], m["section"], bool(m["answer"]), m["sends"], m["answers"]))
    return rules


def _headings() -> set[str]:
    return {m[1] for m in re.finditer(r"^#{2,3} (.+)$", _doc(), re.MULTILINE)}


def _error_codes_table() -> set[str]:
    section = _doc().split("## Error codes", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE))


def test_the_document_and_the_runner_name_the_same_rules() -> None:
    assert [r.name for r in doc_rules()] == list(conformance.RULES)


def test_each_rule_is_filed_under_a_section_of_the_document() -> None:
    headings = _headings()
    for r in doc_rules():
        assert r.section in headings, r
        assert conformance.RULES[r.name].section == r.section, r
        assert conformance.RULES[r.name].answer == r.answer, r


def test_every_error_code_of_the_document_is_the_answer_of_a_rule() -> None:
    answered = {m["code"] for r in doc_rules() for m in _ERROR_RE.finditer(r.answers)}
    assert _error_codes_table() <= answered
    # And every Error the document says a side sends anywhere is a code of the table.
    assert {m["code"] for m in _ERROR_RE.finditer(_doc())} <= _error_codes_table()


def test_the_colliding_keys_of_the_trust_rule_claim_one_id_with_two_keys() -> None:
    a, b = (Identity.from_private_bytes(bytes.fromhex(k)) for k in conformance.COLLIDING_KEYS)
    assert a.fingerprint != b.fingerprint and a.device_id == b.device_id


def test_the_rule_table_parser_sees_a_missing_rule() -> None:
    text = _doc()
    assert "| `session/end` (answer) |" in text
    names = [r.name for r in doc_rules() if r.name != "session/end"]
    assert names != list(conformance.RULES)


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path, tls=True):
        yield n


def _accept_everything(node: Node) -> None:
    """What --test-auto-accept does in a real client: accept each incoming one at once."""
    tasks: set[asyncio.Task[None]] = set()

    async def accept(invitation_id: str) -> None:
        try:
            await node.client.accept(invitation_id)
        except (ActionRefused, TimeoutError):
            pass  # the token rules make accepts fail on purpose

    def received(view: InvitationView) -> None:
        if view.direction is Direction.INCOMING and view.revision == 1:
            task = asyncio.get_running_loop().create_task(accept(view.invitation_id))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    node.client.invitation_received.connect(received)


@pytest.mark.parametrize("rule", doc_rules(), ids=str)
async def test_the_reference_client_follows_the_rule(nodes: Nodes, rule: DocRule) -> None:
    limits = Limits(handshake_timeout=1.0, idle_timeout=2.0, heartbeat_interval=0.5)
    node = await nodes.make("peer", limits=limits)
    _accept_everything(node)
    target = conformance.Target(LOOPBACK, node.port, node.identity.fingerprint, timeout=5.0)
    outcome = await conformance.run_rule(target, conformance.RULES[rule.name])
    assert outcome.verdict == "PASS", f"{rule.sends} -> expected {rule.answers}: {outcome.detail}"


async def test_a_peer_that_breaks_a_rule_fails_it(nodes: Nodes) -> None:
    # The runner must be able to say FAIL: a peer that never answers accepts fails them.
    node = await nodes.make("silent")
    target = conformance.Target(
        LOOPBACK, node.port, node.identity.fingerprint, timeout=2.0, answer_timeout=0.5
    )
    outcome = await conformance.run_rule(target, conformance.RULES["request/accepted"])
    assert outcome.verdict == "FAIL" and "no answer" in outcome.detail


async def test_a_peer_with_another_key_fails_every_rule_before_anything_is_sent(
    nodes: Nodes,
) -> None:
    node = await nodes.make("other")
    target = conformance.Target(LOOPBACK, node.port, bytes(32), timeout=2.0)
    outcome = await conformance.run_rule(target, conformance.RULES["handshake/heartbeat"])
    assert outcome.verdict == "FAIL" and "fingerprint" in outcome.detail
