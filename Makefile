# Anxin: `make run` serves the bot, `make test` runs every test. Both set up
# everything first (Python 3.10 venv, pinned packages, trained model).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/anxin.tar.gz
EVAL_FILE ?= ../shared/eval/real_buyer_messages.tsv
# The chat widget's browser library (socket.io-client), installed with npm from the
# lockfile in bot/channels/npm into the git-ignored var/npm; the bot serves its dist file.
NPM_DIR := var/npm
SOCKETIO_JS := $(NPM_DIR)/node_modules/socket.io-client/dist/socket.io.min.js
TRAIN_SOURCES := config.yml domain.yml $(wildcard data/*.yml data/nlu/*.yml data/jieba/*) \
                 $(wildcard data/entities/*.yml) data/rules/categories.yml $(wildcard bot/nlu/*.py)
# Quiet library noise; no telemetry (the bot must not reach out at run time).
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONWARNINGS := ignore::DeprecationWarning
export RASA_TELEMETRY_ENABLED := false

# A Python 3.10: from PATH first, then pyenv's versions folder. Evaluated only
# when the venv has to be created.
PYTHON310 = $(shell for p in python3.10 python3 \
    "$$(pyenv root 2>/dev/null)"/versions/3.10.*/bin/python \
    "$$HOME"/.pyenv/versions/3.10.*/bin/python; do \
  "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1 \
    && { command -v "$$p"; break; }; done)

.PHONY: help install db train run run-cluster bench test validate eval shell chat demo report clean widget browser services

help:
	@echo "make run       set up, train if needed, serve the bot (Ctrl-C stops it)"
	@echo "make test      set up, train if needed, run every test"
	@echo "make train     train the model (only when data/config/domain changed)"
	@echo "make db        migrate the database and load rules + demo orders (DATABASE_URL)"
	@echo "make eval      score the model on ../shared/eval with baselines and CV"
	@echo "make shell     talk to the bot in the terminal (rasa shell, no buyer identity)"
	@echo "make chat      chat as a demo buyer with the bot of make run: make chat BUYER=buyer_tg_lin"
	@echo "make run-cluster  2 Rasa servers + 1 action server on PostgreSQL and Redis (started when not running)"
	@echo "make bench     latency/throughput of the real stack vs Rasa's starter bot (results/bench.json)"
	@echo "make demo      play the demo conversations through the bot of make run (for the panel)"
	@echo "make report    after-sales report (HTML + PNG) into results/report: make report FROM=2026-11-01 TO=2026-11-30"
	@echo "make validate  rasa data validate --fail-on-warnings"

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt constraints.txt
	@py="$(PYTHON310)"; \
	if [ -z "$$py" ]; then \
	  echo "Anxin needs Python 3.10 (Rasa 3.6 runs on 3.8-3.10) and none was found on PATH or under pyenv." >&2; \
	  echo "Install it, e.g. 'pyenv install 3.10.13' or your distribution's python3.10 with venv, then run make again." >&2; \
	  exit 1; \
	fi; \
	if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$py"; "$$py" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip==24.0
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	@touch $@

# The rule base (data/rules/*.yml) and demo orders in the database: migrate, then an
# idempotent load (cheap; refreshes the demo's relative dates).
db: $(VENV)/.installed
	$(PY) -m bot.rules load

widget: $(SOCKETIO_JS)

$(SOCKETIO_JS): bot/channels/npm/package.json bot/channels/npm/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "The chat widget needs npm (Node.js 18+) to install socket.io-client into $(NPM_DIR); install Node.js, then run make again." >&2; \
	  exit 1; }
	@mkdir -p $(NPM_DIR)
	cp bot/channels/npm/package.json bot/channels/npm/package-lock.json $(NPM_DIR)/
	npm ci --prefix $(NPM_DIR) --no-audit --no-fund --loglevel=error
	@test -f $@ || { echo "npm ci finished but $@ is missing" >&2; exit 1; }
	@touch $@

# The cluster profile and its tests need PostgreSQL and Redis (Debian's packages); the
# launcher starts private servers from them when none is running.
services:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then \
	  echo "Installing postgresql and redis-server for the cluster profile (apt-get)"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	  if ! { $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq postgresql redis-server; }; then \
	    echo "'apt-get install postgresql redis-server' failed: the cluster profile and its tests need both; install them and run make again." >&2; \
	    exit 1; \
	  fi; \
	fi

# The widget's browser tests drive Debian's chromium through chromedriver.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  echo "Installing chromium and chromium-driver for the widget's browser tests (apt-get)"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	  if ! { $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium chromium-driver; }; then \
	    echo "make test: 'apt-get install chromium chromium-driver' failed, so the widget's browser tests cannot run." >&2; \
	    echo "They need /usr/bin/chromium and /usr/bin/chromedriver: install both (as root, with Debian's package sources reachable) and run make test again." >&2; \
	    exit 1; \
	  fi; \
	fi
	@if [ -z "$$(fc-list :lang=zh 2>/dev/null)" ]; then \
	  echo "Installing a Chinese font (fonts-wqy-microhei) so the widget's screenshots are readable"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq fonts-wqy-microhei \
	    || echo "make test: could not install fonts-wqy-microhei; the tests still run, screenshots show boxes for Chinese" >&2; \
	fi

train: $(MODEL)

$(MODEL): $(VENV)/.installed $(TRAIN_SOURCES)
	$(RASA) train --fixed-model-name anxin --out models
	@touch $@

validate: $(VENV)/.installed
	$(RASA) data validate --fail-on-warnings

run: $(MODEL) db widget
	$(PY) -m bot.serve --model $(MODEL)

run-cluster: $(MODEL) widget services
	$(PY) -m bot.cluster --model $(MODEL)

chat: $(VENV)/.installed
	$(PY) -m bot.conversation chat --buyer $(or $(BUYER),buyer_tm_chen)

bench: $(MODEL) widget
	$(PY) -m bot.bench

demo: $(VENV)/.installed
	$(PY) -m bot demo

report: $(VENV)/.installed
	$(PY) -m bot report $(if $(FROM),--from $(FROM)) $(if $(TO),--to $(TO))

shell: $(MODEL) db
	@mkdir -p var
	$(RASA) run actions --actions actions --port 5055 >var/actions-shell.log 2>&1 & \
	  pid=$$!; trap "kill $$pid" EXIT; $(RASA) shell --model $(MODEL)

test: $(MODEL) db widget browser services
	$(RASA) data validate --fail-on-warnings
	$(PY) -m pytest
	$(RASA) test core --stories tests --model $(MODEL) --fail-on-prediction-errors --out results/test_stories

eval: $(MODEL)
	$(PY) -m bot.evaluation --model $(MODEL) --eval-file $(EVAL_FILE) --out results

clean:
	rm -rf models/*.tar.gz results var .pytest_cache
