# Every target bootstraps .venv on a fresh machine (python3, pip, git and make are enough).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
VERSION = $(shell sed -n 's/^  "version": "\([^"]*\)".*/\1/p' datapackage.json)

.PHONY: release figure serve validate test test-deep mutation flip-rules generate clean

# datapackage.json holds the version: reinstall when it changes, so that the installed metadata agrees.
$(STAMP): pyproject.toml datapackage.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,release]'
	touch $(STAMP)

## release: validate everything, then build dist/nk-defections-<version>/, its zip, and the
##          wheel dist/nk_defections-<version>-py3-none-any.whl
##          (PREVIOUS=path/to/previous-release.zip also checks that the version was bumped enough)
release: $(STAMP)
	$(BIN)/nk-defections build --out dist $(if $(PREVIOUS),--previous $(PREVIOUS))
	$(BIN)/python -m pip wheel --no-deps --quiet -w dist .

## figure: refresh the README's figure (docs/timeline.png) from the release just built
figure: release
	cp dist/nk-defections-$(VERSION)/figures/timeline.png docs/timeline.png

## serve: browse the data in Datasette on 127.0.0.1 (PORT=8001 unless given): the release in
##        dist/ when it holds the current data, else a database built from the package
serve: $(STAMP)
	$(BIN)/nk-defections serve $(if $(PORT),--port $(PORT))

validate: $(STAMP)
	$(BIN)/nk-defections validate

## test: the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest

## lint: ruff (lint and format), mypy on the package, and the import contracts between the stages
lint: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[lint]'
	$(BIN)/ruff check validators tests benchmarks tools
	$(BIN)/ruff format --check validators tests benchmarks tools
	$(BIN)/mypy validators/nk_defections
	$(BIN)/lint-imports

## test-deep: the property tests with many more examples (hypothesis profile "deep"; slow)
test-deep: $(STAMP)
	HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest tests/test_properties.py tests/test_dates.py tests/test_contributions.py tests/test_claim_rules.py

## mutation: mutation testing of the rules (mutmut; slow, prints the kill rate and the survivors)
##           (MUTATION_ARGS="--sample 100" estimates it from a sample; see tools/mutation.py)
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	$(BIN)/python tools/mutation.py $(MUTATION_ARGS)

## flip-rules: turn each rule off in turn and show which tests fail
flip-rules: $(STAMP)
	$(BIN)/python tools/flip_rules.py

## generate: regenerate the derived files (tests fail while they are stale)
generate: $(STAMP)
	$(BIN)/python -m nk_defections.generate

clean:
	rm -rf $(VENV) dist build .pytest_cache .hypothesis test-output
