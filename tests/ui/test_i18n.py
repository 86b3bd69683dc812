"""Translations: the German UI appears when its translator is installed and English returns
when it is removed; the shipped .ts is complete, its .qm current, and no UI string is missing."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, QTranslator
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QDialogButtonBox, QLabel

from anydesk_invite.core.clock import ManualClock
from anydesk_invite.core.permissions import Permission
from anydesk_invite.ui.bell import BellButton
from anydesk_invite.ui.i18n import (
    LANG_ENV_VAR,
    install_translator,
    preferred_locale,
    remove_translator,
)
from anydesk_invite.ui.invite_dialog import InviteDialog
from anydesk_invite.ui.main_window import MainWindow
from anydesk_invite.ui.toast import InvitationToast
from tests.helpers.fake_client import FakeClient, invitation

TRANSLATIONS = Path(str(resources.files("anydesk_invite.resources") / "translations"))
GERMAN_TS = TRANSLATIONS / "anydesk_invite_de.ts"
GERMAN_QM = TRANSLATIONS / "anydesk_invite_de.qm"
UI_SOURCES = sorted((Path(str(resources.files("anydesk_invite"))) / "ui").glob("*.py"))
_PLACEHOLDER = re.compile(r"\{\w*\}|%n")


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


@pytest.fixture
def german(qapp: QApplication) -> Iterator[QTranslator]:
    translator = install_translator(qapp, QLocale(QLocale.Language.German, QLocale.Country.Germany))
    assert translator is not None
    try:
        yield translator
    finally:
        remove_translator(qapp, translator)


def _visible_texts(qtbot, facade: FakeClient) -> dict[str, object]:
    """The texts a user sees first in the main window, a toast, the bell and the invite dialog."""
    window = MainWindow(facade)
    qtbot.addWidget(window)
    toast = InvitationToast(FakeClient(), invitation(), ManualClock().now)
    qtbot.addWidget(toast)
    bell_facade = FakeClient()
    bell_facade.put(invitation("b1"))
    bell_facade.put(invitation("b2"))
    bell = BellButton(bell_facade, ManualClock().now)
    qtbot.addWidget(bell)
    dialog = InviteDialog(FakeClient())
    qtbot.addWidget(dialog)
    cancel = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Cancel)
    return {
        "connect": window.connect_button.text(),
        "tabs": [window.tabs.tabText(i) for i in range(window.tabs.count())],
        "menu": window.menuBar().actions()[0].text(),
        "toast title": toast.findChild(QLabel, "inviterLabel").text(),
        "toast offer": toast.findChild(QLabel, "permissionsLabel").text().replace("\n", " "),
        "toast buttons": (toast.accept_button.text(), toast.reject_button.text()),
        "bell": bell.toolTip(),
        "dialog title": dialog.windowTitle(),
        "dialog send": dialog.send_button.text(),
        "dialog cancel": cancel.text(),
        "permission": dialog.toggles.findChild(
            QCheckBox, f"perm_{Permission.CONTROL.value}"
        ).text(),
    }


ENGLISH = {
    "connect": "Connect",
    "tabs": ["Favorites", "Recent Sessions", "Discovery", "Address Book"],
    "menu": "&Client",
    "toast title": "alice@ad invites you",
    "toast offer": "Offers: View screen, Control keyboard and mouse, Clipboard",
    "toast buttons": ("Connect", "Reject"),
    "bell": "2 waiting",
    "dialog title": "Invite to a session",
    "dialog send": "&Send invitation",
    "dialog cancel": "Cancel",
    "permission": "Control keyboard and mouse",
}
GERMAN = {
    "connect": "Verbinden",
    "tabs": ["Favoriten", "Letzte Sitzungen", "Netzwerk", "Adressbuch"],
    "menu": "&Client",
    "toast title": "alice@ad lädt Sie ein",
    "toast offer": "Bietet an: Bildschirm ansehen, Tastatur und Maus steuern, Zwischenablage",
    "toast buttons": ("Verbinden", "Ablehnen"),
    "bell": "2 warten",
    "dialog title": "Zu einer Sitzung einladen",
    "dialog send": "Einladung &senden",
    "dialog cancel": "Abbrechen",
    "permission": "Tastatur und Maus steuern",
}


def test_the_german_translator_makes_windows_german_and_removing_it_brings_english_back(
    qtbot, qapp: QApplication, facade: FakeClient
) -> None:
    translator = install_translator(qapp, QLocale(QLocale.Language.German))
    assert translator is not None
    try:
        assert _visible_texts(qtbot, facade) == GERMAN
    finally:
        remove_translator(qapp, translator)
    assert _visible_texts(qtbot, facade) == ENGLISH


def test_built_in_profiles_show_in_german_but_keep_their_english_key(
    qtbot, german: QTranslator
) -> None:
    from anydesk_invite.core.permissions import BUILTIN_PROFILES
    from anydesk_invite.core.policy import Policy
    from anydesk_invite.ui.permission_toggles import PermissionToggles

    full = BUILTIN_PROFILES[0]
    toggles = PermissionToggles(BUILTIN_PROFILES, Policy(), full.permissions, full.name)
    qtbot.addWidget(toggles)
    combo = toggles.findChild(QComboBox, "profileCombo")
    assert combo is not None
    shown = [combo.itemText(i) for i in range(combo.count())]
    assert shown == ["Vollzugriff", "Standard", "Bildschirmfreigabe"]
    combo.setCurrentIndex(2)
    combo.activated.emit(2)  # as a user's pick
    assert toggles.profile_name() == "Screen Sharing"  # the key settings and peers know


def test_plural_forms_follow_the_count_in_german(qtbot, german: QTranslator) -> None:
    bell_facade = FakeClient()
    bell_facade.put(invitation("b1"))
    bell = BellButton(bell_facade, ManualClock().now)
    qtbot.addWidget(bell)
    assert bell.toolTip() == "1 wartet"
    assert bell.accessibleName() == "Benachrichtigungen, 1 wartet"


def test_a_regional_german_locale_gets_the_german_translation(qapp: QApplication) -> None:
    translator = install_translator(qapp, QLocale("de_AT"))
    assert translator is not None
    try:
        assert qapp.translate("PeerPane", "Favorites") == "Favoriten"
    finally:
        remove_translator(qapp, translator)


@pytest.mark.parametrize("name", ["en_US", "en_GB", "fr_FR", "C"])
def test_english_and_untranslated_languages_install_nothing(qapp: QApplication, name: str) -> None:
    assert install_translator(qapp, QLocale(name)) is None
    assert qapp.translate("PeerPane", "Favorites") == "Favorites"


def test_adinvite_lang_overrides_the_system_locale() -> None:
    assert preferred_locale({LANG_ENV_VAR: "de"}).language() == QLocale.Language.German
    assert preferred_locale({LANG_ENV_VAR: "en"}).language() == QLocale.Language.English
    assert preferred_locale({}) == QLocale.system()
    assert preferred_locale({LANG_ENV_VAR: "  "}) == QLocale.system()


def _messages(ts: Path) -> list[ET.Element]:
    root = ET.parse(ts).getroot()
    out = []
    for context in root.iter("context"):
        for message in context.iter("message"):
            message.set("context", context.findtext("name") or "")
            out.append(message)
    return out


def test_every_german_message_is_translated_and_keeps_its_placeholders() -> None:
    assert ET.parse(GERMAN_TS).getroot().get("language") == "de"
    problems = []
    messages = _messages(GERMAN_TS)
    assert len(messages) > 200
    for m in messages:
        source = m.findtext("source") or ""
        translation = m.find("translation")
        assert translation is not None
        where = f"{m.get('context')}: {source!r}"
        if translation.get("type") is not None:  # unfinished, vanished, obsolete
            problems.append(f"{where} is {translation.get('type')}")
        forms = (
            [f.text or "" for f in translation.iter("numerusform")]
            if m.get("numerus") == "yes"
            else [translation.text or ""]
        )
        if m.get("numerus") == "yes" and len(forms) != 2:
            problems.append(f"{where} needs singular and plural, has {len(forms)}")
        for text in forms:
            if not text.strip():
                problems.append(f"{where} has no translation")
            elif sorted(_PLACEHOLDER.findall(text)) != sorted(_PLACEHOLDER.findall(source)):
                problems.append(f"{where} → {text!r} changes the placeholders")
            elif source.count("&") != text.count("&"):
                problems.append(f"{where} → {text!r} loses or adds a shortcut")
    assert problems == []


def test_the_committed_qm_is_compiled_from_the_committed_ts(tmp_path: Path) -> None:
    lrelease = _tool("pyside6-lrelease")
    if lrelease is None:
        pytest.skip("pyside6-lrelease is not installed")
    built = tmp_path / "de.qm"
    subprocess.run(
        [lrelease, str(GERMAN_TS), "-qm", str(built)], check=True, capture_output=True, timeout=60
    )
    assert built.read_bytes() == GERMAN_QM.read_bytes(), "run scripts/update_translations.sh"


def test_lupdate_finds_no_ui_string_that_the_ts_lacks(tmp_path: Path) -> None:
    lupdate = _tool("pyside6-lupdate")
    if lupdate is None:
        pytest.skip("pyside6-lupdate is not installed")
    fresh = tmp_path / "fresh.ts"
    subprocess.run(
        [lupdate, *map(str, UI_SOURCES), "-no-obsolete", "-locations", "none", "-ts", str(fresh)],
        check=True,
        capture_output=True,
        timeout=60,
    )

    def keys(ts: Path) -> set[tuple[str, str]]:
        return {(m.get("context") or "", m.findtext("source") or "") for m in _messages(ts)}

    found, shipped = keys(fresh), keys(GERMAN_TS)
    assert len(found) > 200
    assert found - shipped == set(), "new UI strings: run scripts/update_translations.sh"
    assert shipped - found == set(), "strings no longer in the UI: run update_translations.sh"
