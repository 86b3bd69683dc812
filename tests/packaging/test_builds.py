"""Wheel, sdist and the PyInstaller one-folder app are built, installed and started: the app
headless (it answers --get-id) and with its GUI on Xvfb (its main window shows)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from tests.helpers.short_dir import short_dir

ROOT = Path(__file__).resolve().parents[2]
# Building takes tens of seconds on an idle machine and minutes on a busy one.
pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]


def run(*cmd: str | Path, **kw: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{cmd}: {result.stdout}\n{result.stderr}"
    return result  # type: ignore[no-any-return]


FIND_RESOURCES = (
    "from importlib import resources; r = resources.files('anydesk_invite.resources'); "
    "print(r, (r / 'icons' / 'invite.svg').is_file(), "
    "(r / 'translations' / 'anydesk_invite_de.qm').is_file())"
)


def fresh_venv(where: Path) -> Path:
    """A new venv that borrows only the dependencies (not this checkout) from the test venv."""
    run(sys.executable, "-m", "venv", "--without-pip", where)
    [site] = (where / "lib").glob("python3*/site-packages")
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return where / "bin" / "python"


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_wheel_and_sdist_install_into_a_fresh_venv_and_the_command_runs(
    tmp_path: Path, kind: str
) -> None:
    out = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--no-isolation", f"--{kind}", "--outdir", out, ROOT)
    [artifact] = out.iterdir()
    if kind == "wheel":
        names = zipfile.ZipFile(artifact).namelist()
    else:
        names = tarfile.open(artifact).getnames()
    assert any(n.endswith("resources/icons/app/anydesk-invite-512.png") for n in names)
    assert any(n.endswith("resources/icons/anydesk-invite.svg") for n in names)
    python = fresh_venv(tmp_path / "venv")
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        artifact,
    )
    where = run(python, "-c", "import anydesk_invite; print(anydesk_invite.__file__)", cwd=tmp_path)
    assert where.stdout.startswith(str(tmp_path / "venv"))
    # resources/ at the top of the tree arrives as the package anydesk_invite.resources.
    found = run(python, "-c", FIND_RESOURCES, cwd=tmp_path).stdout.split()
    assert found[0].startswith(str(tmp_path / "venv")), found
    assert found[1:] == ["True", "True"], found
    helped = run(tmp_path / "venv" / "bin" / "anydesk-invite", "--help", cwd=tmp_path)
    assert "--get-id" in helped.stdout


def test_pyinstaller_one_folder_app_builds_and_answers_get_id_when_started(
    tmp_path: Path, xvfb_display: str
) -> None:
    dist = tmp_path / "dist"
    run(
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--distpath",
        dist,
        "--workpath",
        tmp_path / "build",
        ROOT / "packaging" / "anydesk-invite.spec",
    )
    app = dist / "anydesk-invite" / "anydesk-invite"
    assert "--get-id" in run(app, "--help").stdout
    bundled = dist / "anydesk-invite" / "_internal" / "anydesk_invite" / "resources"
    assert (bundled / "__init__.py").is_file()
    assert (bundled / "icons" / "invite.svg").is_file()
    assert (bundled / "translations" / "anydesk_invite_de.qm").is_file()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    with short_dir() as home, open(tmp_path / "client.log", "w") as log:
        client = subprocess.Popen(
            [
                str(app),
                "--home",
                str(home),
                "--headless",
                "--interface",
                "127.0.0.1",
                "--discovery",
                "off",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                asked = subprocess.run(
                    [str(app), "--home", str(home), "--get-id"], capture_output=True, text=True
                )
                if (
                    asked.returncode == 0
                    or time.monotonic() > deadline
                    or client.poll() is not None
                ):
                    break
                time.sleep(0.2)  # polling the running client's socket, not a fixed wait
            assert asked.returncode == 0, asked.stderr + (tmp_path / "client.log").read_text()
            assert asked.stdout.strip().isdigit() and len(asked.stdout.strip()) == 10
        finally:
            client.terminate()
            assert client.wait(20) == 0
    # The same build starts its GUI on an X server and shows the main window.
    if shutil.which("xdotool") is None:
        return
    gui_env = dict(env, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb")
    with short_dir() as home, open(tmp_path / "gui.log", "w") as log:
        gui = subprocess.Popen(
            [str(app), "--home", str(home), "--interface", "127.0.0.1", "--discovery", "off"],
            env=gui_env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 30
            found = ""
            while not found and time.monotonic() < deadline and gui.poll() is None:
                found = subprocess.run(
                    ["xdotool", "search", "--onlyvisible", "--name", "LAN Invite$"],
                    env=gui_env,
                    capture_output=True,
                    text=True,
                ).stdout.strip()
                time.sleep(0.2)  # polling for the window, not a fixed wait
            assert found, "no main window appeared\n" + (tmp_path / "gui.log").read_text()
        finally:
            gui.terminate()
            gui.wait(20)
