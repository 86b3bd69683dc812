"""The command line's side of the control API: send one request to a running client."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

MAX_RESPONSE = 16 * 1024 * 1024


class NotRunning(Exception):
    """No client listens on the control socket."""


async def send_command(
    socket_path: Path, cmd: str, args: dict[str, Any] | None = None, timeout: float = 10.0
) -> dict[str, Any]:
    """Send one request to a running client and return its response object.

    Raises NotRunning when nothing listens on the socket, TimeoutError when the client does not
    answer in time, and ConnectionError when the answer is missing or not a response.
    """
    async with asyncio.timeout(timeout):
        try:
            reader, writer = await asyncio.open_unix_connection(
                str(socket_path), limit=MAX_RESPONSE
            )
        except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError) as exc:
            raise NotRunning(str(socket_path)) from exc
        try:
            request = {"cmd": cmd, "args": args or {}}
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    try:
        response = json.loads(line) if line else None
    except ValueError:
        response = None
    if not isinstance(response, dict) or not isinstance(response.get("ok"), bool):
        raise ConnectionError("the running client gave no valid answer")
    return response
