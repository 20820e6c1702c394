# aldesk: two commands on a fresh machine.
#   make demo   set up .venv with the pinned dependencies and open the demo project
#   make test   the same set-up plus the dev tools, then the whole suite headless
# Installers (packaging/README.md):
#   make bundle        the one-folder app dist/aldesk/aldesk (PyInstaller)
#   make deb           dist/aldesk_VERSION_ARCH.deb from that bundle (Debian, Ubuntu)
#   make bundle-test   builds the bundle, then its self-test and a project, with no network
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: demo test lint venv dev clean bundle deb bundle-test

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "aldesk needs Python 3.11 or newer: run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(PIP) -e '.[dev]'
	@touch $@

$(VENV)/.bundle: $(VENV)/.runtime
	$(PIP) -e '.[bundle]'
	@touch $@

venv: $(VENV)/.runtime
dev: $(VENV)/.dev

demo: $(VENV)/.runtime
	$(BIN)/aldesk demo

test: $(VENV)/.dev
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest
	$(BIN)/ruff check .

lint: $(VENV)/.dev
	$(BIN)/ruff check .

# Rebuilt only when the app, its resources, the spec or the pins change.
BUNDLE_INPUTS := $(shell find aldesk resources -type f -not -path '*/__pycache__/*') \
	packaging/aldesk.spec pyproject.toml constraints.txt

dist/aldesk/aldesk: $(VENV)/.bundle $(BUNDLE_INPUTS)
	rm -rf dist/aldesk dist/aldesk.app
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN --distpath dist \
		--workpath build/pyinstaller packaging/aldesk.spec
	@touch $@
	@du -sh dist/aldesk

bundle: dist/aldesk/aldesk

deb: dist/aldesk/aldesk
	packaging/linux/build-deb.sh dist/aldesk dist

bundle-test: dist/aldesk/aldesk $(VENV)/.dev
	ALDESK_BUNDLE=dist/aldesk/aldesk QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest \
		tests/bundle -v -p no:cacheprovider

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
