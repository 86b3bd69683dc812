"""Desktop entry, AppStream metainfo, Flatpak manifest and app icons: valid and consistent."""

from __future__ import annotations

import configparser
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
APP_ID = "io.github.anydesk_invite.AnydeskInvite"
DESKTOP = PACKAGING / f"{APP_ID}.desktop"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"
FLATPAK = PACKAGING / f"{APP_ID}.yml"
ICONS = ROOT / "resources" / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: scripts/bootstrap.sh --test installs it")
    return path


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_passes_desktop_file_validate() -> None:
    result = subprocess.run(
        [tool("desktop-file-validate"), str(DESKTOP)], capture_output=True, text=True
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_desktop_entry_handles_adinvite_links_and_passes_the_url_to_the_command() -> None:
    entry = desktop_entry()
    assert "x-scheme-handler/adinvite" in entry["MimeType"].split(";")
    assert entry["Exec"] == "anydesk-invite %u"
    assert entry["Icon"] == APP_ID


def test_metainfo_passes_appstreamcli_validate() -> None:
    result = subprocess.run(
        [tool("appstreamcli"), "validate", "--no-net", str(METAINFO)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_metainfo_names_the_app_id_the_desktop_file_and_says_it_is_not_affiliated() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    description = " ".join("".join(root.find("description").itertext()).split())  # type: ignore[union-attr]
    assert "not affiliated with AnyDesk" in description
    assert root.findtext("provides/binary") == "anydesk-invite"


def test_flatpak_manifest_has_the_required_keys_and_the_same_app_id() -> None:
    manifest = yaml.safe_load(FLATPAK.read_text(encoding="utf-8"))
    assert isinstance(manifest, dict)
    for key in ("app-id", "runtime", "runtime-version", "sdk", "command", "modules"):
        assert key in manifest, f"the Flatpak manifest lacks {key!r}"
    assert manifest["app-id"] == APP_ID
    assert manifest["command"] == desktop_entry()["TryExec"]
    assert isinstance(manifest["runtime-version"], str)
    assert all(isinstance(a, str) and a.startswith("--") for a in manifest["finish-args"])
    for module in manifest["modules"]:
        assert {"name", "buildsystem"} <= module.keys()
        assert all(isinstance(c, str) for c in module.get("build-commands", []))
        for source in module.get("sources", []):
            assert source["type"] in ("dir", "file", "archive", "git")
            if source["type"] in ("dir", "file"):
                assert (PACKAGING / source["path"]).exists(), source


def test_flatpak_manifest_installs_desktop_metainfo_and_every_icon_under_the_app_id() -> None:
    manifest = yaml.safe_load(FLATPAK.read_text(encoding="utf-8"))
    commands = " ".join(c for m in manifest["modules"] for c in m.get("build-commands", []))
    assert f"/app/share/applications/{DESKTOP.name}" in commands
    assert f"/app/share/metainfo/{METAINFO.name}" in commands
    assert f"/app/share/icons/hicolor/scalable/apps/{APP_ID}.svg" in commands
    assert " ".join(str(s) for s in PNG_SIZES) in commands
    for path in commands.split():
        if path.startswith(("packaging/", "resources/")) and "$" not in path:
            assert (ROOT / path).exists(), path


@pytest.mark.parametrize("size", PNG_SIZES)
def test_app_icon_png_exists_at_each_size(size: int) -> None:
    data = (ICONS / "app" / f"anydesk-invite-{size}.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (size, size)
