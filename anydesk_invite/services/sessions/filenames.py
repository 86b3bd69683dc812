"""File names a peer offers, made safe to save: safe_file_name keeps a name inside the folder
it is joined to on every common system, claim_final gives a received file its final name
without ever overwriting one that is there."""

from __future__ import annotations

import errno
import os
import re
import unicodedata
from pathlib import Path

NAME_MAX_BYTES = 200
"""Room left under the usual 255-byte limit for " (NNN)" on a name clash."""
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(10)),
    *(f"lpt{i}" for i in range(10)),
}


def safe_file_name(name: str) -> str:
    """A name that stays inside the folder it is joined to, on every common system.

    Only the last path component counts (either slash), so "../../etc/x" is "x"; the name is
    NFC; control and format characters (Unicode Cc, Cf: bidi overrides, zero-width ones, BOM)
    and shell-hostile characters become "_", leading dots and spaces go (no hidden files),
    reserved device names (CON, NUL, COM1…) get a "_" in front, and the result is at most
    NAME_MAX_BYTES of UTF-8 with its extension kept.
    """
    # Control and format characters (U+202E right-to-left override, zero-width ones, BOM)
    # would make "invoice\u202efdp.exe" look like a PDF: each becomes a visible "_".
    text = "".join(
        "_" if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
        for ch in unicodedata.normalize("NFC", name)
    ).replace("\\", "/")
    parts = [p for p in text.split("/") if p not in ("", ".", "..")]
    base = parts[-1] if parts else ""
    base = _FORBIDDEN.sub("_", base).strip().lstrip(". ").rstrip(". ")
    if not base:
        base = "received file"
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    if stem.split(".")[0].strip().lower() in _RESERVED:
        stem = "_" + stem
    ext = f".{ext}" if dot else ""
    if len(ext.encode()) > 20:
        stem, ext = stem + ext, ""
    room = NAME_MAX_BYTES - len(ext.encode())
    encoded = stem.encode()
    if len(encoded) > room:
        stem = encoded[:room].decode("utf-8", "ignore").rstrip(". ")
    return (stem or "received file") + ext


def _numbered(name: str, n: int) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({n})"
    return f"{stem} ({n}).{ext}"


def claim_final(folder: Path, name: str, temp: Path) -> Path:
    """Move ``temp`` to ``name`` in ``folder``, or "name (1).ext"… when taken; never overwrite.

    A hard link claims the name atomically without replacing anything; renaming over a
    placeholder (the fallback for file systems without hard links) makes ext4 write the whole
    file out first, which for a large file costs a visible pause.
    """
    links = True
    for n in range(0, 1000):
        candidate = folder / (name if n == 0 else _numbered(name, n))
        if links:
            try:
                os.link(temp, candidate)
            except FileExistsError:
                continue
            except OSError as exc:
                if exc.errno not in _NO_HARD_LINKS:
                    raise
                links = False
            else:
                os.unlink(temp)
                return candidate
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        os.close(fd)
        os.replace(temp, candidate)
        return candidate
    raise OSError(errno.EEXIST, f"no free name for {name} in {folder}")


_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.EACCES}
