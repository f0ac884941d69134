# Set-up and everyday commands. Needs only python3 (3.11); everything else goes into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out

.PHONY: install demo test test-slow bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## The main job: simulate the Kim models on the rate reference and plot them.
demo: install
	$(BIN)/neuromorph info
	$(BIN)/neuromorph simulate models/kim_fig3_solid.yaml --backend rate --out $(OUT)/demo/kim_fig3_solid
	$(BIN)/neuromorph simulate models/kim_fig5.yaml --backend rate --out $(OUT)/demo/kim_fig5
	@echo "plots: $(OUT)/demo/*/traces.png"

## Default test suite (< 10 min on 2 cores).
test: install
	$(BIN)/python -m pytest -m "not slow" -q

## Long accuracy and learning checks.
test-slow: install
	$(BIN)/python -m pytest -m slow -q

## Throughput and memory benchmarks (ratios against baselines run in the same process).
bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(OUT) .pytest_cache .hypothesis
