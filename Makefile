# Make targets for work outside the CI run (.ci/run). Each target says what it prints.
PY := .venv/bin/python

.PHONY: security-mutants package

# Switches each security protection off in a temporary copy of the tree and shows its
# tests/security test failing; prints a table (protection, test, result).
security-mutants:
	$(PY) scripts/security_mutants.py

# Builds wheel and sdist into dist/ and the PyInstaller one-folder app into dist/anydesk-invite/,
# then runs the packaging tests (desktop entry, metainfo, Flatpak manifest, builds, smoke start).
package:
	$(PY) -m build --no-isolation --outdir dist .
	$(PY) -m PyInstaller --noconfirm --distpath dist --workpath build/pyinstaller \
		packaging/anydesk-invite.spec
	$(PY) -m pytest -q tests/packaging
