# 质量门诊 · Quality Clinic assistant. `make help` lists the targets.
.DEFAULT_GOAL := help
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: help setup run test test-fast lint validate bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

setup: ## create both environments, the embedding model, the index and the Rasa model (idempotent)
	@python3 scripts/setup.py

run: setup ## start the assistant on http://127.0.0.1:8000/ (SQLite, sample knowledge)
	@$(PY) -m app.launch

test: setup lint ## set up, lint, check formatting, types and layers, and run every test (unit, integration, end to end, browser)
	@$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup lint ## the tests that need neither Rasa nor a browser (no tests/e2e, no rasa test)
	@$(PY) -m pytest -m "not e2e and not rasa" $(PYTEST_ARGS)

lint: ## ruff lint, format check, mypy and the import-linter layer contracts
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@$(PY) -m mypy
	@.venv/bin/lint-imports

validate: setup ## validate the knowledge base and the Rasa training data
	@$(PY) -m knowledge validate
	@.venv-rasa/bin/rasa data validate --config bot/config.yml --domain bot/domain --data bot/data
