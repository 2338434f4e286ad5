# Every target bootstraps .venv on a fresh machine (python3, pip, git and make are enough).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: release validate test generate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## release: validate everything and build the release
release: $(STAMP)
	$(BIN)/nk-defections validate

validate: $(STAMP)
	$(BIN)/nk-defections validate

## test: the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest

## generate: regenerate the derived files (tests fail while they are stale)
generate: $(STAMP)
	$(BIN)/python -m nk_defections.generate

clean:
	rm -rf $(VENV) dist build .pytest_cache .hypothesis
