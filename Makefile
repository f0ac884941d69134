# Set-up and everyday commands. Needs only python3 (3.11); everything else goes into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out

.PHONY: install demo test test-slow test-interop bench lint clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## The main job: deploy digits and Kim on Loihi (NengoLoihi's emulator without a chip), compare
## against the rate model and Brian2, print the tables and the reports' paths.
demo: install
	$(BIN)/neuromorph info
	$(BIN)/neuromorph deploy deploy/digits_on_loihi.yaml --out $(OUT)/demo/digits_on_loihi
	$(BIN)/neuromorph deploy deploy/kim_on_loihi.yaml --out $(OUT)/demo/kim_on_loihi

## Debian's Chromium renders the HTML report in a test; installed when apt-get can (else that test skips).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get install -y -qq chromium >/dev/null 2>&1 || \
	   (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)) \
	  && echo "installed chromium" || echo "chromium not available: the report-rendering test will skip"; }

## Default test suite, in parallel on 2 workers (< 6 min on 2 cores).
test: install chromium
	$(BIN)/python -m pytest -m "not slow and not interop" -q -n 2 --dist loadgroup

## Long accuracy and learning checks.
test-slow: install
	$(BIN)/python -m pytest -m "slow and not interop" -q -n 2 --dist loadgroup

## NIR files against snnTorch (installs the optional `interop` extra: torch, snntorch).
test-interop: install
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,interop]'
	$(BIN)/python -m pytest -m interop -q -s tests/interop

## Style and types: ruff on everything, mypy on the package.
lint: install
	$(BIN)/ruff check neuromorph tests benchmarks
	$(BIN)/mypy

## Throughput and memory benchmarks (ratios against baselines run in the same process).
bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(OUT) .pytest_cache .hypothesis
