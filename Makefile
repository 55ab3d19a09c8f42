# Entry points: `make report`, `make test` (the whole suite, as CI runs it: lint, types,
# every test) and `make test-quick` (leaves out the tests marked slow). Each creates .venv
# when missing. The report's browser test runs where `chromium` is on the PATH and is
# skipped otherwise; `make chromium` installs Debian's package (needs root).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP_BASE := $(VENV)/.installed-base
STAMP_TEST := $(VENV)/.installed-test
OUT    ?= report

.PHONY: report test test-quick lint typecheck docs benchmark clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_BASE): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

# torch is pinned to the CPU build that pip finds locally; an unpinned torch pulls CUDA.
$(STAMP_TEST): $(STAMP_BASE)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,docs,optuna,mlflow,parquet,sweep]'
	touch $@

report: $(STAMP_BASE)
	$(BIN)/odyssey report --out $(OUT)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the report's browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: lint typecheck
	@command -v chromium >/dev/null 2>&1 || echo "chromium is not installed: the report's \
	browser test is skipped (make chromium installs it)"
	$(BIN)/python -m pytest -q

test-quick: $(STAMP_TEST)
	$(BIN)/ruff check odyssey_analysis odyssey_sweep tests benchmarks
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP_TEST)
	$(BIN)/ruff check odyssey_analysis odyssey_sweep tests benchmarks

typecheck: $(STAMP_TEST)
	$(BIN)/mypy

docs: $(STAMP_TEST)
	$(BIN)/mkdocs build --strict --site-dir build/site

benchmark: $(STAMP_TEST)
	$(BIN)/python benchmarks/bench_fanova.py

clean:
	rm -rf $(VENV) build *.egg-info report
