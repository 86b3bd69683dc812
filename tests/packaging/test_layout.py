"""The top level is the design card's, and the resources at the top are the installed package's
data: pyproject.toml lists every package folder and maps anydesk_invite.resources to resources/,
so importlib.resources finds the icons and translations from this checkout's editable install.
(The wheel and the PyInstaller bundle are checked in test_builds.py.)"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def setuptools_config() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)["tool"]["setuptools"]  # type: ignore[no-any-return]


def test_top_level_holds_what_the_design_card_names() -> None:
    card = ("pyproject.toml", "anydesk_invite", "resources", "tests", "packaging", "README.md")
    for name in card:
        assert (ROOT / name).exists(), name
    assert not (ROOT / "src").exists()
    assert not (ROOT / "anydesk_invite" / "resources").exists()


def test_every_package_folder_is_listed_for_the_wheel() -> None:
    listed = set(setuptools_config()["packages"])  # type: ignore[call-overload]
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "anydesk_invite").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert on_disk | {"anydesk_invite.resources"} == listed


def test_resources_folder_is_installed_as_the_package_resources() -> None:
    config = setuptools_config()
    assert config["package-dir"] == {
        "anydesk_invite": "anydesk_invite",
        "anydesk_invite.resources": "resources",
    }


def test_editable_install_finds_icons_and_translations_in_the_top_level_resources() -> None:
    found = resources.files("anydesk_invite.resources")
    assert Path(str(found)).resolve() == ROOT / "resources"
    assert (found / "icons" / "invite.svg").read_bytes().startswith(b"<svg")
    assert (found / "translations" / "anydesk_invite_de.qm").is_file()


def test_a_fresh_interpreter_outside_the_checkout_finds_the_resources(tmp_path: Path) -> None:
    code = (
        "from importlib import resources; "
        "r = resources.files('anydesk_invite.resources'); "
        "print((r / 'icons' / 'app' / 'anydesk-invite-512.png').is_file())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "True"
