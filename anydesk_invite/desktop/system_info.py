"""System information about this machine, for a guest allowed to ask."""

from __future__ import annotations

import os
import platform
import socket

from PySide6.QtGui import QGuiApplication

from anydesk_invite.core.sysinfo import SystemInformation


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_total() -> int:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


class DesktopSystemInfo:
    """Reads OS, host name, CPU, memory and the screens Qt knows about."""

    def system_information(self) -> SystemInformation:
        screens = []
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            for i, s in enumerate(QGuiApplication.screens()):
                g = s.geometry()
                # A screen without a name (offscreen, some Wayland outputs) is named by number,
                # so no entry starts with a space.
                name = s.name().strip() or f"screen {i + 1}"
                screens.append(f"{name} {g.width()}x{g.height()}")
        return SystemInformation(
            os=f"{platform.system()} {platform.release()}",
            hostname=socket.gethostname(),
            cpu=_cpu_name(),
            cpu_count=os.cpu_count() or 1,
            memory_total=_memory_total(),
            screens=tuple(screens),
        )
