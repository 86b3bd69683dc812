"""Whole clients over real TLS on 127.0.0.1 for the security suite (tests/helpers/nodes.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.helpers.nodes import Nodes, nodes_for


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path, tls=True):
        yield n
