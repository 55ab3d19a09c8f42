# Two entry points: `make report` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP_BASE := $(VENV)/.installed-base
STAMP_TEST := $(VENV)/.installed-test
OUT    ?= report

.PHONY: report test lint benchmark clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_BASE): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

# torch is pinned to the CPU build that pip finds locally; an unpinned torch pulls CUDA.
$(STAMP_TEST): $(STAMP_BASE)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,optuna,mlflow,parquet,sweep]'
	touch $@

report: $(STAMP_BASE)
	$(BIN)/odyssey report --out $(OUT)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the report's browser test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium could not be installed; the browser test will be skipped"; }

test: $(STAMP_TEST) chromium
	$(BIN)/ruff check odyssey_analysis tests benchmarks
	$(BIN)/python -m pytest -q

lint: $(STAMP_TEST)
	$(BIN)/ruff check odyssey_analysis tests benchmarks

benchmark: $(STAMP_TEST)
	$(BIN)/python benchmarks/bench_fanova.py

clean:
	rm -rf $(VENV) build *.egg-info report
