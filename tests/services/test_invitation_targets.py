"""Where an invitation goes: the device that answers at a stored address must be the one asked
for; another device there is refused with both IDs named and is never sent the invitation."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.permissions import Permission
from anydesk_invite.services.facade import RefusalKind, RefusedWithKind
from anydesk_invite.storage.contacts import AddressEntry
from tests.helpers.nodes import Nodes, nodes_for

CONTROL = frozenset({Permission.CONTROL})


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


async def test_an_address_that_answers_with_another_device_is_refused_naming_both_ids(
    nodes: Nodes,
) -> None:
    anna = await nodes.make("anna")
    carl = await nodes.make("carl")
    wanted = DeviceId.from_fingerprint(hashlib.sha256(b"a device that is not carl").digest())
    # Anna's book says the wanted device is at carl's address (it moved, or the entry is wrong).
    anna.db.address_book.add(AddressEntry(wanted, manual_address=carl.manual_address))
    with pytest.raises(RefusedWithKind) as refused:
        await anna.client.invite(wanted.digits, CONTROL, "")
    assert refused.value.kind is RefusalKind.INVALID
    assert str(refused.value) == (
        f"the device at that address has ID {carl.identity.device_id.grouped()}, "
        f"not {wanted.grouped()}: check the address in the address book"
    )
    assert carl.client.invitations() == []
