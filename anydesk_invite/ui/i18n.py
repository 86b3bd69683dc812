"""The UI's language: the translation matching the system locale (or $ADINVITE_LANG), and
words for core values (permissions) that the widgets show.

English is the source language, so it has no translation file. Translations live in
resources/translations (installed as the package anydesk_invite.resources) as
``anydesk_invite_<lang>.qm``, built from the ``.ts`` files by scripts/update_translations.sh.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QLibraryInfo,
    QLocale,
    QObject,
    QTranslator,
)

from anydesk_invite.core.permissions import DEFAULT, FULL_ACCESS, SCREEN_SHARING, Permission

LANG_ENV_VAR = "ADINVITE_LANG"
"""Overrides the system locale, e.g. ``de`` or ``en``."""

SOURCE_LANGUAGE = "en"

_PERMISSION_LABELS = {
    Permission.CONTROL: QT_TRANSLATE_NOOP("Permission", "Control keyboard and mouse"),
    Permission.CLIPBOARD: QT_TRANSLATE_NOOP("Permission", "Clipboard"),
    Permission.FILE_TRANSFER: QT_TRANSLATE_NOOP("Permission", "File transfer"),
    Permission.SYSTEM_INFO: QT_TRANSLATE_NOOP("Permission", "System information"),
    Permission.DRAW: QT_TRANSLATE_NOOP("Permission", "Draw on screen"),
}


def permission_label(perm: Permission) -> str:
    """A permission's name in the UI's language."""
    return QCoreApplication.translate("Permission", _PERMISSION_LABELS[perm])


_PROFILE_LABELS = {
    FULL_ACCESS: QT_TRANSLATE_NOOP("Profile", "Full Access"),
    DEFAULT: QT_TRANSLATE_NOOP("Profile", "Default"),
    SCREEN_SHARING: QT_TRANSLATE_NOOP("Profile", "Screen Sharing"),
}


def profile_label(name: str) -> str:
    """A profile's name as shown: built-in names in the UI's language, custom ones as typed.

    The English name stays the key in settings, on the wire and on the command line.
    """
    source = _PROFILE_LABELS.get(name)
    return QCoreApplication.translate("Profile", source) if source else name


def view_screen_label() -> str:
    """Viewing the screen, which every session includes, named like the permissions."""
    return QCoreApplication.translate("Permission", "View screen")


def permissions_text(perms: frozenset[Permission]) -> str:
    """What an invitation offers, in words; the screen is always viewed."""
    return ", ".join(permission_items(perms))


def permission_items(perms: frozenset[Permission]) -> list[str]:
    """Each thing an invitation offers, named; the screen is always viewed."""
    return [view_screen_label(), *(permission_label(p) for p in Permission if p in perms)]


def translation_name(lang: str) -> str:
    """The file name of a language's compiled translation, e.g. ``anydesk_invite_de.qm``."""
    return f"anydesk_invite_{lang}.qm"


def translation_data(lang: str) -> bytes | None:
    """The compiled translation shipped for a language code (``de``, ``de_DE``), or None."""
    ref = resources.files("anydesk_invite.resources") / "translations"
    ref = ref / translation_name(lang)
    return ref.read_bytes() if ref.is_file() else None


def preferred_locale(environ: Mapping[str, str] = os.environ) -> QLocale:
    """$ADINVITE_LANG when set, otherwise the system locale."""
    wanted = environ.get(LANG_ENV_VAR, "").strip()
    return QLocale(wanted) if wanted else QLocale.system()


def _candidates(locale: QLocale) -> list[str]:
    """Language codes to look for, most specific first, up to the first English one."""
    out: list[str] = []
    for ui_lang in [*locale.uiLanguages(), locale.name()]:
        code = ui_lang.replace("-", "_")
        for candidate in (code, code.split("_")[0]):
            if candidate == SOURCE_LANGUAGE or candidate in ("C", "c"):
                return out
            if candidate and candidate not in out:
                out.append(candidate)
    return out


class BundledTranslator(QTranslator):
    """A translator loaded from bytes, which it keeps: Qt reads them in place, not a copy."""

    def __init__(self, data: bytes, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._data = data
        if not self.load(self._data):
            raise ValueError("not a compiled Qt translation")


def install_translator(app: QCoreApplication, locale: QLocale | None = None) -> QTranslator | None:
    """Install the translation for ``locale`` (default: preferred_locale()) into ``app``.

    Returns the installed translator, or None when the language is English or has no
    translation. Qt's own strings (standard buttons such as Cancel) follow along through a
    child translator; remove both with remove_translator.
    """
    chosen = locale if locale is not None else preferred_locale()
    for lang in _candidates(chosen):
        data = translation_data(lang)
        if data is None:
            continue
        translator = BundledTranslator(data, parent=app)
        translator.setObjectName(f"translator_{lang}")
        qt_own = QTranslator(translator)
        qt_own.setObjectName(f"qtbaseTranslator_{lang}")
        directory = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        if qt_own.load(f"qtbase_{lang}", directory):
            app.installTranslator(qt_own)
        app.installTranslator(translator)
        return translator
    return None


def remove_translator(app: QCoreApplication, translator: QTranslator) -> None:
    """Undo install_translator: the UI speaks English again for widgets built afterwards."""
    for own in translator.findChildren(QTranslator):
        app.removeTranslator(own)
    app.removeTranslator(translator)
    translator.deleteLater()
