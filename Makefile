# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_ENTERPRISES ?= 2000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo serve test test-fast lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## demo: install, migrate, build the demo district, print the login, serve on 127.0.0.1:8000
demo: install
	DEBUG=1 $(BIN)/kechuang migrate --noinput
	DEBUG=1 $(BIN)/kechuang demo-data --if-empty --enterprises $(DEMO_ENTERPRISES)
	@echo ""
	@echo "  Open http://127.0.0.1:8000/  —  user: officer   password: kechuang-demo-2026"
	@echo ""
	DEBUG=1 $(BIN)/kechuang runserver 127.0.0.1:8000

serve: install
	DEBUG=1 $(BIN)/kechuang runserver 127.0.0.1:8000

## test: the whole suite (SQLite by default; set DATABASE_URL for PostgreSQL)
test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=kechuang.settings_test $(BIN)/kechuang makemigrations --check --dry-run
	DEBUG=0 SECRET_KEY=lint-check-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	  ALLOWED_HOSTS=kechuang.example.gov.cn $(BIN)/kechuang check --deploy --fail-level WARNING

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var/ .pytest_cache
