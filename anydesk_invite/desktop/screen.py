"""The local screens, captured through QScreen (QtGui only) for the screen stream."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication, QImage, QScreen

from anydesk_invite.core.screen import RawFrame, ScreenInfo


class QtScreens:
    """Every screen Qt knows, grabbed whole with ``QScreen.grabWindow(0)``.

    Sizes are in device pixels (what a grab returns), so a HiDPI screen is sent sharp.
    Must be called on the Qt (event loop) thread.
    """

    def _all(self) -> list[QScreen]:
        if QGuiApplication.instance() is None:
            return []
        return list(QGuiApplication.screens())

    def screens(self) -> list[ScreenInfo]:
        out = []
        for i, s in enumerate(self._all()):
            size = s.geometry().size() * s.devicePixelRatio()
            out.append(ScreenInfo(i, s.name() or f"Screen {i + 1}", size.width(), size.height()))
        return out

    def grab_image(self, index: int) -> QImage:
        """Screen ``index`` as an RGB32 image; IndexError for a screen that is gone."""
        screens = self._all()
        if not 0 <= index < len(screens):
            raise IndexError(f"no screen {index}")
        image = screens[index].grabWindow(0).toImage()
        if image.format() != QImage.Format.Format_RGB32:
            image = image.convertToFormat(QImage.Format.Format_RGB32)
        return image

    def grab(self, index: int) -> RawFrame:
        image = self.grab_image(index)
        if image.isNull():
            raise IndexError(f"screen {index} gave no image")
        # RGB32 is 0xffRRGGBB per pixel: bytes B, G, R, 0xff on little-endian machines.
        return RawFrame(
            image.width(), image.height(), image.bytesPerLine(), bytes(image.constBits())
        )
