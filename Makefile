# oncotrial — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := build/demo
SEED   ?= 6

.PHONY: demo test lint typecheck unit venv clean bench browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@rm -rf $(DEMO)
	$(BIN)/oncotrial simulate --protocol examples/protocols/anlotinib-sintilimab-escc.yaml --seed $(SEED) --out $(DEMO)/sdtm --features $(DEMO)/panel/expression.parquet --n-features 2000
	$(BIN)/oncotrial derive --sdtm $(DEMO)/sdtm --protocol examples/protocols/anlotinib-sintilimab-escc.yaml --out $(DEMO)/adam
	$(BIN)/oncotrial report --adam $(DEMO)/adam --protocol examples/protocols/anlotinib-sintilimab-escc.yaml --out $(DEMO)/report/report.html --features $(DEMO)/panel/expression.parquet

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The report test renders the report in headless Chromium (Debian package chromium); install it
# when missing. Where it cannot be installed the browser test says so and is skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium for the report's browser test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; the browser test will be skipped"; }

unit: $(STAMP) browser
	ONCOTRIAL_REQUIRE_BROWSER=$$(command -v chromium >/dev/null 2>&1 && echo 1) $(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/bench_pipeline.py

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
