# hf_emo: `make demo` runs the main job, `make test` the tests. Both install what they need first.
PY        ?= python3
VENV      ?= .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.hf_emo-installed
PYTEST_ARGS ?=
# torch is installed first and pinned here (the CPU wheel where the index serves it); every other package comes
# from requirements.lock (`make lock` regenerates it)
TORCH     := torch==2.13.0

.PHONY: install demo test test-fast test-slow lint lock bench clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml requirements.lock requirements-offline-nodeps.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# CPU wheel first: an unpinned torch would pull several GB of CUDA packages.
	$(BIN)/python -m pip install -q $(TORCH)
	# the exact versions every figure in BENCHMARKS.md was measured with, then hf_emo itself on top of them
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	$(BIN)/python -m pip install -q --no-deps -r requirements-offline-nodeps.txt
	$(BIN)/hf-emo zoo materialize --all
	touch $(STAMP)

demo: install
	bash recipes/romanian_mtkd/00_baseline.sh --profile embedded --overwrite_output_dir true

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check hf_emo bench tests
	$(BIN)/ruff format --check hf_emo bench tests

test-fast: install
	$(BIN)/python -m pytest -m "not integration and not slow" $(PYTEST_ARGS)

test-slow: install
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/trainer_overhead.py

# Refresh the lock on purpose (new library versions can move a run: re-measure the figures, see README "Installs")
lock:
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q pip-tools
	echo "$(TORCH)" > $(VENV)/torch-constraint.txt
	$(BIN)/pip-compile --quiet --upgrade --no-emit-index-url --no-emit-find-links --strip-extras --extra dev \
	  --extra offline --unsafe-package torch --constraint $(VENV)/torch-constraint.txt \
	  --output-file requirements.lock setup.cfg

clean:
	rm -rf $(VENV) build dist *.egg-info
