# Two commands on a fresh clone: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test check bench soak soak-slow lock clean

# Every dependency comes from the lock, verified by its hashes: the versions the tests passed with.
$(BIN)/ivr: pyproject.toml requirements-test.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check
	touch $@

run: $(BIN)/ivr
	@echo "Starting the helpline in dev mode on http://$(HOST):$(PORT)"
	@echo "Twilio's webhook (dev: unsigned): http://$(HOST):$(PORT)/voice  (fallback: /fallback)"
	@echo "Try a call in another terminal:  $(BIN)/ivr call --url http://$(HOST):$(PORT)"
	@echo "             or without server:  $(BIN)/ivr call --keys 1,1"
	@echo "The operators' console:          http://$(HOST):$(PORT)/console/"
	@echo "  its first account, once:       $(BIN)/ivr user add YOUR-NAME --role editor"
	$(BIN)/ivr serve --dev --host $(HOST) --port $(PORT)

test: $(BIN)/ivr
	$(BIN)/python -m pytest

check: $(BIN)/ivr
	$(BIN)/ivr check

bench: $(BIN)/ivr
	$(BIN)/python bench/run.py
	$(BIN)/python bench/caller_time.py

soak: $(BIN)/ivr
	$(BIN)/python bench/soak.py

# slow, idle and stalled clients against ivr serve, alone and behind deploy/'s nginx (loopback, ~4 min)
soak-slow: $(BIN)/ivr
	$(BIN)/python bench/soak_slow.py

# Refresh the locks after a change to pyproject.toml; pins already there are kept.
# `make lock LOCK_FLAGS=--upgrade` takes the newest releases allowed: a change to review.
LOCK_FLAGS ?=
LOCK_ARGS  := --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock"
# uv lives in a venv of its own: the project's venv is built from the lock, which may be stale.
LOCK_VENV  := .venv-lock
lock:
	test -x $(LOCK_VENV)/bin/uv || { $(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install --quiet 'uv>=0.5'; }
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml --extra test $(LOCK_ARGS) $(LOCK_FLAGS) -o requirements-test.lock
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml -c requirements-test.lock $(LOCK_ARGS) -o requirements.lock

clean:
	rm -rf $(VENV) $(LOCK_VENV) build *.egg-info
