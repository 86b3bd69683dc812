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

.PHONY: mutants

# Mutation score where the behaviour lives (core, policy files, wire, invitations, file
# transfer): mutmut mutates each group in a copy under .mutants/ and runs the tests that judge
# it; prints killed / counted and the goal per module, then the survivors. Long: an hour or
# more for every group on two cores; name groups to run some (make mutants GROUPS="core wire").
mutants:
	$(PY) scripts/mutants.py $(GROUPS)

.PHONY: reliability fuzz bench

# Runs the fault and load suite with heavier floods (scale 3) and the SQLite kill test;
# prints a table (case, result, figure: stall ms, memory KiB, recovery s).
reliability:
	$(PY) scripts/reliability.py --scale 3

# Feeds 100,000 random frames into a live client on 127.0.0.1 (bounded to 10 minutes);
# prints counts (inputs, connections closed, handler failures).
fuzz:
	$(PY) scripts/fuzz.py --inputs 100000 --seconds 600

# Runs every benchmark in bench/ and prints one table: figure, value, baseline, ratio, goal.
bench:
	$(PY) bench/run_all.py

.PHONY: demo screenshots

# Sets up like scripts/run-app.sh, then starts two GUI clients (anna@ad left, ben@ad right) on
# 127.0.0.1 with temporary homes, to try an invitation on one machine; exits non-zero with the
# reason when one does not start; Ctrl-C stops both. Needs a display (or xvfb-run).
demo:
	bash scripts/demo.sh

# Runs the real app under Xvfb with openbox at 1920x1080 and 1280x800, and at 1920x1080 with
# QT_SCALE_FACTOR=2 (anna, ben and carla on 127.0.0.1, and a first start without a keyring)
# and saves each scene full-screen as docs/screenshots/<scene>-<W>x<H>[@2x].png; prints the
# files written.
screenshots:
	$(PY) scripts/screenshots.py
