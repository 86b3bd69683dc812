"""One client's home folder: where its database, key, log and policy live, and its socket.

Each home is one device: it holds a random install id that names the device key in the
keyring, so two homes on one machine are two devices. The control socket lives in a short
runtime directory instead, because a Unix socket path must stay under ~107 bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

import platformdirs

APP_NAME = "anydesk-invite"
INSTALL_ID_FILE = "install-id"
# Without XDG_RUNTIME_DIR the runtime directory gets a random name under /tmp, recorded here.
RUNTIME_RECORD_FILE = "runtime-dir"
# sun_path is 108 bytes on Linux, including the terminating NUL.
SOCKET_PATH_MAX = 107
_INSTALL_ID_RE = re.compile(r"[0-9a-f]{32}")
_HASH_LENGTH = 16


class HomeError(OSError):
    """The home folder or runtime directory cannot be used; the message says why."""


class Home:
    """One client's folder. Paths are absolute; the folder exists with mode 0700."""

    def __init__(
        self,
        path: Path,
        *,
        environ: Mapping[str, str] | None = None,
        tmp_base: Path = Path("/tmp"),
    ) -> None:
        self._path = path
        self._environ = os.environ if environ is None else environ
        self._tmp_base = tmp_base
        self._install_id: str | None = None
        self._runtime_dir: Path | None = None

    @classmethod
    def resolve(
        cls,
        path: str | None,
        *,
        environ: Mapping[str, str] | None = None,
        tmp_base: Path = Path("/tmp"),
    ) -> Home:
        """The home at ``path`` (or the user's data folder when None), created 0700.

        ``environ`` and ``tmp_base`` choose where the runtime directory goes (tests).
        """
        raw = (
            Path(path).expanduser()
            if path is not None
            else Path(platformdirs.user_data_dir(APP_NAME))
        )
        home = raw.resolve()
        if home.exists() and not home.is_dir():
            raise HomeError(f"the home folder {home} exists and is not a folder")
        if not home.exists():
            try:
                home.parent.mkdir(parents=True, exist_ok=True)
                home.mkdir(mode=0o700)
            except FileExistsError:
                pass  # another client created it at the same moment
            except OSError as exc:
                raise HomeError(f"cannot create the home folder {home}: {exc.strerror}") from exc
            else:
                # mkdir's mode is reduced by the umask; make sure it is exactly 0700.
                os.chmod(home, 0o700)
        return cls(home, environ=environ, tmp_base=tmp_base)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def db_path(self) -> Path:
        return self._path / "anydesk-invite.db"

    @property
    def log_path(self) -> Path:
        """The log file; its ``logs`` folder is made by whoever opens the log."""
        return self._path / "logs" / "anydesk-invite.log"

    @property
    def key_file(self) -> Path:
        """Where the device key lives when no keyring works."""
        return self._path / "device-key.pem"

    @property
    def policy_path(self) -> Path:
        return self._path / "policy.toml"

    @property
    def install_id(self) -> str:
        """A random 32-hex id made once per home; it names the device key in the keyring."""
        if self._install_id is None:
            self._install_id = self._read_or_create_install_id()
        return self._install_id

    def _read_or_create_install_id(self) -> str:
        target = self._path / INSTALL_ID_FILE
        if not target.exists():
            self._create_install_id(target)
        try:
            text = target.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise HomeError(f"cannot read the install id in {target}: {exc}") from exc
        if not _INSTALL_ID_RE.fullmatch(text):
            # Never replace it: the id names the device key, a new one would lose the identity.
            raise HomeError(
                f"the install id in {target} is damaged (expected 32 lowercase hex digits); "
                "restore it from a backup, or remove the file to become a new device"
            )
        return text

    def _create_install_id(self, target: Path) -> None:
        tmp = target.with_name(f".{INSTALL_ID_FILE}.{secrets.token_hex(6)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, (secrets.token_hex(16) + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            # link() does not replace an existing file, so a client starting at the same
            # moment cannot overwrite an id the other one has already used.
            os.link(tmp, target)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        _fsync_dir(self._path)

    @property
    def runtime_dir(self) -> Path:
        """A short private directory for the control socket, made on first use (0700).

        ``$XDG_RUNTIME_DIR/anydesk-invite/<hash>`` when that is usable (``<hash>``: the first
        16 hex digits of the SHA-256 of the home's real path, so each home gets its own).
        Otherwise a directory with a random name under /tmp, made by ``mkdtemp`` (so another
        local user can neither guess it in advance nor create it first) and recorded in the
        home's ``runtime-dir`` file; a recorded directory that is gone, not ours or not
        private is replaced by a new one, never a reason to refuse to start.
        """
        if self._runtime_dir is None:
            self._runtime_dir = self._make_runtime_dir()
        return self._runtime_dir

    @property
    def control_socket_path(self) -> Path:
        """Where the running client serves its control socket (makes the directory)."""
        return self.runtime_dir / "control"

    def find_control_socket(self) -> Path | None:
        """Where a running client of this home serves its socket, creating nothing.

        None when no runtime directory of this home exists (so no client runs).
        """
        xdg = self._xdg_runtime_dir()
        if xdg is not None:
            return xdg / "control" if xdg.is_dir() else None
        recorded = self._recorded_runtime_dir()
        return recorded / "control" if recorded is not None else None

    def remove_runtime_dir(self) -> None:
        """On a clean exit: remove this home's runtime directory (and its record)."""
        path = self._runtime_dir
        if path is None:
            return
        self._runtime_dir = None
        with contextlib.suppress(FileNotFoundError):
            (path / "control").unlink()
        with contextlib.suppress(OSError):
            os.rmdir(path)
        if self._xdg_runtime_dir() is None:
            with contextlib.suppress(FileNotFoundError):
                (self._path / RUNTIME_RECORD_FILE).unlink()

    def _xdg_runtime_dir(self) -> Path | None:
        digest = hashlib.sha256(os.fsencode(os.path.realpath(self._path))).hexdigest()
        xdg = self._environ.get("XDG_RUNTIME_DIR", "")
        if xdg and _usable_xdg_runtime_dir(Path(xdg)):
            path = Path(xdg) / APP_NAME / digest[:_HASH_LENGTH]
            if _fits_socket(path):
                return path
        return None

    def _make_runtime_dir(self) -> Path:
        xdg = self._xdg_runtime_dir()
        if xdg is not None:
            _private_dir(xdg.parent)
            return _private_dir(xdg)
        recorded = self._recorded_runtime_dir()
        if recorded is not None:
            return recorded
        try:
            made = Path(tempfile.mkdtemp(prefix=f"{APP_NAME}-", dir=self._tmp_base))
        except OSError as exc:
            raise HomeError(
                f"cannot create a runtime directory in {self._tmp_base}: {exc.strerror}"
            ) from exc
        if not _fits_socket(made):
            os.rmdir(made)
            raise HomeError(f"the runtime directory {made} is too long for a Unix socket")
        record = self._path / RUNTIME_RECORD_FILE
        tmp = record.with_name(f".{RUNTIME_RECORD_FILE}.{secrets.token_hex(6)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, os.fsencode(made) + b"\n")
        finally:
            os.close(fd)
        os.replace(tmp, record)
        return made

    def _recorded_runtime_dir(self) -> Path | None:
        """The recorded random runtime directory, if it still exists, is ours and private."""
        try:
            text = (self._path / RUNTIME_RECORD_FILE).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        path = Path(text)
        if not (
            path.is_absolute()
            and path.parent == self._tmp_base
            and path.name.startswith(f"{APP_NAME}-")
        ):
            return None
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if (
            not stat.S_ISDIR(st.st_mode)
            or st.st_uid != os.geteuid()
            or stat.S_IMODE(st.st_mode) != 0o700
        ):
            return None  # gone, claimed by someone else, or loosened: make a new one
        return path


def _fits_socket(directory: Path) -> bool:
    return len(os.fsencode(directory / "control")) < SOCKET_PATH_MAX


def _usable_xdg_runtime_dir(path: Path) -> bool:
    """XDG_RUNTIME_DIR counts only if it is an absolute folder of ours that we can write."""
    if not path.is_absolute():
        return False
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (
        stat.S_ISDIR(st.st_mode)
        and st.st_uid == os.geteuid()
        and os.access(path, os.W_OK | os.X_OK)
    )


def _private_dir(path: Path) -> Path:
    """Create ``path`` 0700 or check an existing one is ours and private; refuse otherwise."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise HomeError(f"cannot create the runtime directory {path}: {exc.strerror}") from exc
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise HomeError(f"cannot check the runtime directory {path}: {exc.strerror}") from exc
    if not stat.S_ISDIR(st.st_mode):
        raise HomeError(f"the runtime directory {path} is not a folder (a link?); refusing it")
    if st.st_uid != os.geteuid():
        raise HomeError(
            f"the runtime directory {path} belongs to uid {st.st_uid}, not to us; refusing it"
        )
    if st.st_mode & 0o077:
        if st.st_mode & 0o022:
            # Others could have put things in it: do not trust what is there.
            raise HomeError(
                f"the runtime directory {path} is writable by others "
                f"(mode {stat.S_IMODE(st.st_mode):o}); remove it and start again"
            )
        os.chmod(path, 0o700)
    return path


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def default_incoming_folder() -> Path:
    """The platform's Downloads folder, where received files go unless a setting says else."""
    return Path(platformdirs.user_downloads_dir())
