"""What every small dialog of the app shares."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QLayout, QSizePolicy, QSpacerItem


def fit_contents(dialog: QDialog) -> None:
    """Make ``dialog`` exactly as big as what it shows, growing and shrinking with it.

    A window whose size cannot change cannot be maximised: openbox reads that from the
    window's minimum and maximum size (it ignores the Qt window flags and the Motif hints
    they set), takes Maximise out of the window's allowed actions and draws its button
    disabled. No empty band is left when a line (an error) goes away. Openbox keeps
    Minimise on every dialog whatever the window says; only the window types of menus and
    toolbars lose it, which Qt 6 no longer lets a program set. Since every dialog is its
    parent window's transient, that button minimises the app as a whole, and bringing the app
    back shows the dialog on top again (tests/ui/test_window_placement.py, under openbox).
    """
    layout = dialog.layout()
    if layout is None:
        return
    # A fixed-size layout sizes the dialog to its contents alone, forgetting the minimum
    # width the dialog asked for (room for its placeholders): a zero-high strut keeps it.
    margins = layout.contentsMargins()
    width = dialog.minimumWidth() - margins.left() - margins.right()
    if width > 0:
        layout.addItem(QSpacerItem(width, 0, QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed))
    layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)
