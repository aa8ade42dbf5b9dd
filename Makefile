# Two commands matter: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
XINYONG := $(VENV)/bin/xinyong
SAMPLE := var/sample

.PHONY: install system-packages test lint typecheck check demo sample bench clean
# one thing at a time: scripts/system-packages may run apt-get, which takes a lock
.NOTPARALLEL:

$(STAMP): pyproject.toml
	scripts/system-packages python3-venv
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# The Debian packages of scripts/system-packages (the one list): apt-get when root, otherwise
# it stops with the command to run.
system-packages:
	scripts/system-packages

# pytest's exit 5 (no test collected) is a failure too: a whole suite that finds nothing is broken
test: system-packages $(STAMP)
	$(PY) -m pytest -q -n 2 || { status=$$?; \
	  [ $$status -ne 5 ] || echo "make test: pytest 没有收集到任何测试" >&2; exit $$status; }

lint: $(STAMP)
	$(VENV)/bin/ruff check xinyong tests bench
	$(VENV)/bin/ruff format --check xinyong tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check: lint typecheck test

sample: $(STAMP)
	$(XINYONG) sample generate --output $(SAMPLE)

# the demo serves credit reports, which embed the CJK font
demo: $(STAMP)
	scripts/system-packages fonts-wqy-zenhei
	$(XINYONG) db upgrade
	$(XINYONG) sample generate --output $(SAMPLE)
	$(XINYONG) sample load $(SAMPLE)
	$(XINYONG) daily
	@echo "信用濮阳：http://127.0.0.1:8000/ （按 Ctrl+C 停止）"
	$(XINYONG) serve --host 127.0.0.1 --port 8000

bench: $(STAMP)
	$(PY) bench/ingest.py 100000

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
