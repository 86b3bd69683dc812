"""The screen grabbed through X11 shared memory (MIT-SHM): the X server writes the pixels
straight into a segment this process maps, with no copy through the socket.

Measured under Xvfb at 1920x1080 on the shared 2-core machine (``bench/capture.py``): see
that script for the figures beside QScreen.grabWindow. Its own X connection makes it safe to
call from a worker thread, so the grab runs off the event loop (``grab_off_loop``). Used
where Qt runs on X11 (platform ``xcb``) and the server has MIT-SHM; elsewhere QtScreens.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading

from anydesk_invite.core.screen import RawFrame, ScreenInfo

_log = logging.getLogger(__name__)

_ZPIXMAP = 2
_IPC_PRIVATE = 0
_IPC_CREAT = 0o1000
_IPC_RMID = 0
_ALL_PLANES = 0xFFFFFFFF


class _XImage(ctypes.Structure):
    # The leading fields of Xlib's XImage; only these are read.
    _fields_ = [
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("xoffset", ctypes.c_int),
        ("format", ctypes.c_int),
        ("data", ctypes.c_void_p),
        ("byte_order", ctypes.c_int),
        ("bitmap_unit", ctypes.c_int),
        ("bitmap_bit_order", ctypes.c_int),
        ("bitmap_pad", ctypes.c_int),
        ("depth", ctypes.c_int),
        ("bytes_per_line", ctypes.c_int),
        ("bits_per_pixel", ctypes.c_int),
    ]


class _ShmInfo(ctypes.Structure):
    _fields_ = [
        ("shmseg", ctypes.c_ulong),
        ("shmid", ctypes.c_int),
        ("shmaddr", ctypes.c_void_p),
        ("readOnly", ctypes.c_int),
    ]


class CaptureUnavailable(RuntimeError):
    """No X display, no MIT-SHM, or not 32 bits a pixel."""


def _libs() -> tuple[ctypes.CDLL, ctypes.CDLL, ctypes.CDLL]:
    names = [ctypes.util.find_library(n) for n in ("X11", "Xext", "c")]
    if None in names:
        raise CaptureUnavailable("libX11 or libXext is missing")
    x11, xext, libc = (ctypes.CDLL(n, use_errno=True) for n in names)  # type: ignore[arg-type]
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    for f in ("XDefaultScreen",):
        getattr(x11, f).argtypes = [ctypes.c_void_p]
    x11.XRootWindow.restype = ctypes.c_ulong
    x11.XRootWindow.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XDefaultVisual.restype = ctypes.c_void_p
    x11.XDefaultVisual.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XDefaultDepth.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XDisplayWidth.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    x11.XFree.argtypes = [ctypes.c_void_p]
    xext.XShmQueryExtension.argtypes = [ctypes.c_void_p]
    xext.XShmCreateImage.restype = ctypes.POINTER(_XImage)
    xext.XShmCreateImage.argtypes = [
        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_void_p,
        ctypes.POINTER(_ShmInfo), ctypes.c_uint, ctypes.c_uint,
    ]  # fmt: skip
    xext.XShmAttach.argtypes = [ctypes.c_void_p, ctypes.POINTER(_ShmInfo)]
    xext.XShmDetach.argtypes = [ctypes.c_void_p, ctypes.POINTER(_ShmInfo)]
    xext.XShmGetImage.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(_XImage), ctypes.c_int, ctypes.c_int,
        ctypes.c_ulong,
    ]  # fmt: skip
    libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    libc.shmdt.argtypes = [ctypes.c_void_p]
    libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
    return x11, xext, libc


class ShmScreen:
    """The X screen of ``display`` (None: $DISPLAY), whole, as one screen, through MIT-SHM.
    One grab at a time (a lock); any thread."""

    grab_off_loop = True

    def __init__(self, display: str | None = None) -> None:
        self._x11, self._xext, self._libc = _libs()
        dpy = self._x11.XOpenDisplay(display.encode() if display else None)
        if not dpy:
            raise CaptureUnavailable(f"cannot open X display {display or '$DISPLAY'}")
        self._dpy = dpy
        self._lock = threading.Lock()
        self._image: ctypes._Pointer[_XImage] | None = None
        self._info = _ShmInfo()
        try:
            if not self._xext.XShmQueryExtension(dpy):
                raise CaptureUnavailable("the X server has no MIT-SHM")
            screen = self._x11.XDefaultScreen(dpy)
            self._root = self._x11.XRootWindow(dpy, screen)
            self.width = self._x11.XDisplayWidth(dpy, screen)
            self.height = self._x11.XDisplayHeight(dpy, screen)
            self._attach(screen)
        except BaseException:
            self.close()
            raise

    def _attach(self, screen: int) -> None:
        x11, xext, libc, dpy = self._x11, self._xext, self._libc, self._dpy
        depth = x11.XDefaultDepth(dpy, screen)
        visual = x11.XDefaultVisual(dpy, screen)
        image = xext.XShmCreateImage(
            dpy, visual, depth, _ZPIXMAP, None, ctypes.byref(self._info), self.width, self.height
        )
        if not image:
            raise CaptureUnavailable("XShmCreateImage failed")
        self._image = image
        if image.contents.bits_per_pixel != 32:
            raise CaptureUnavailable(f"{image.contents.bits_per_pixel} bits a pixel, not 32")
        size = image.contents.bytes_per_line * image.contents.height
        shmid = libc.shmget(_IPC_PRIVATE, size, _IPC_CREAT | 0o600)
        if shmid < 0:
            raise CaptureUnavailable(f"shmget failed (errno {ctypes.get_errno()})")
        self._info.shmid = shmid
        addr = libc.shmat(shmid, None, 0)
        # The segment goes away once both sides detach, even if this process dies.
        libc.shmctl(shmid, _IPC_RMID, None)
        if addr in (None, ctypes.c_void_p(-1).value):
            raise CaptureUnavailable(f"shmat failed (errno {ctypes.get_errno()})")
        self._info.shmaddr = addr
        self._info.readOnly = 0
        image.contents.data = addr
        self._size = size
        if not xext.XShmAttach(dpy, ctypes.byref(self._info)):
            raise CaptureUnavailable("XShmAttach failed")
        x11.XSync(dpy, 0)
        self._attached = True

    def screens(self) -> list[ScreenInfo]:
        return [ScreenInfo(0, "X11", self.width, self.height)]

    def grab(self, index: int) -> RawFrame:
        if index != 0:
            raise IndexError(f"no screen {index}")
        with self._lock:
            image = self._image
            if image is None or not self._dpy:
                raise IndexError("the capture is closed")
            if not self._xext.XShmGetImage(self._dpy, self._root, image, 0, 0, _ALL_PLANES):
                raise IndexError("XShmGetImage failed")
            data = ctypes.string_at(self._info.shmaddr, self._size)
            return RawFrame(self.width, self.height, image.contents.bytes_per_line, data)

    def close(self) -> None:
        with self._lock:
            if getattr(self, "_attached", False):
                self._xext.XShmDetach(self._dpy, ctypes.byref(self._info))
                self._attached = False
            if self._info.shmaddr:
                self._libc.shmdt(self._info.shmaddr)
                self._info.shmaddr = None
            if self._image is not None:
                self._image.contents.data = None
                self._x11.XFree(self._image)
                self._image = None
            if self._dpy:
                self._x11.XCloseDisplay(self._dpy)
                self._dpy = None
