# The front door: every target sets up what it needs itself.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test lint bench demo clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $$(scripts/find-python) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# Two workers for everything but the timing tests, which then run alone on a quiet machine.
# Work stealing keeps both workers busy to the end: the default hands out tests in chunks
# of neighbours, and the end-to-end files left one worker running alone for two minutes.
# Bytecode is cached (in __pycache__, ignored by git) even where the environment turns it
# off: the suite starts some 400 Python processes (mitmdump, the CLI, test services), and
# each would compile shadowtape's sources again.
test: install
	scripts/ensure-chromium
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -p no:cacheprovider -n 2 --dist worksteal -m "not timing"
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -p no:cacheprovider -m timing

lint: install
	$(VENV)/bin/ruff check src tests benchmarks fixtures scripts
	$(VENV)/bin/ruff format --check src tests benchmarks fixtures scripts
	$(VENV)/bin/mypy

bench: install
	scripts/bench-deps
	$(PY) -m benchmarks

demo: install
	$(PY) scripts/demo.py

clean:
	rm -rf $(VENV) shadowtape-runs .pytest_cache .mypy_cache .ruff_cache
