# Two commands matter: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
XINYONG := $(VENV)/bin/xinyong
SAMPLE := var/sample

.PHONY: install test lint typecheck check demo sample bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -n 2

lint: $(STAMP)
	$(VENV)/bin/ruff check xinyong tests bench
	$(VENV)/bin/ruff format --check xinyong tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check: lint typecheck test

sample: $(STAMP)
	$(XINYONG) sample generate --output $(SAMPLE)

demo: $(STAMP)
	$(XINYONG) db upgrade
	$(XINYONG) sample generate --output $(SAMPLE)
	$(XINYONG) sample load $(SAMPLE)
	@echo "信用濮阳：http://127.0.0.1:8000/ （按 Ctrl+C 停止）"
	$(XINYONG) serve --host 127.0.0.1 --port 8000

bench: $(STAMP)
	$(PY) bench/ingest.py 100000

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
