"""Renders the app icon SVG into the PNG sizes desktops and Flatpak expect, with Qt.

Run ``python packaging/render_icons.py`` after changing resources/icons/anydesk-invite.svg;
the PNGs are kept in the repository so a build needs no SVG renderer.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SOURCE = ICONS / "anydesk-invite.svg"
TARGET = ICONS / "app"


def png_path(size: int) -> Path:
    return TARGET / f"anydesk-invite-{size}.png"


def render(size: int, renderer: QSvgRenderer) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(QByteArray(SOURCE.read_bytes()))
    if not renderer.isValid():
        print(f"render_icons: {SOURCE} is not a valid SVG", file=sys.stderr)
        return 1
    TARGET.mkdir(exist_ok=True)
    for size in SIZES:
        if not render(size, renderer).save(str(png_path(size)), "PNG"):
            print(f"render_icons: could not write {png_path(size)}", file=sys.stderr)
            return 1
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
