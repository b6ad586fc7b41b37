# jetad-nb: two commands do all the set-up on a fresh machine (Python 3.10+ and make only).
#   make run   - create .venv, install, run the main job on the shipped samples
#   make test  - create/update .venv, lint, check the export, run every notebook and the pytest suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NB_WORKERS ?= 2
RUN_ARGS ?=

.PHONY: run test lab install lint export-check nbtest pytest docs docs-test browser-deps bench readme data clean help

help:
	@echo "make run | make test | make lab | make install | make docs | make readme | make data | make bench | make clean"
	@echo "  make docs       - build the documentation site into _docs/ (executes the notebooks; no Quarto needed)"
	@echo "  make docs-test  - make docs, then load every page in headless Chromium (installs chromium with apt-get)"

$(STAMP): setup.py settings.ini .ci/constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned: an unpinned torch pulls GBs of CUDA packages (see .ci/constraints.txt)
	$(BIN)/python -m pip install -q "torch==2.13.0"
	$(BIN)/python -m pip install -q -c .ci/constraints.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/jetad run $(RUN_ARGS)

# The exported modules must match the notebooks: export into the tree and compare with a copy.
export-check: $(STAMP)
	@rm -rf $(VENV)/export-check && mkdir -p $(VENV)/export-check && cp -r jetad_nb $(VENV)/export-check/
	$(BIN)/nbdev_export
	@diff -r -x __pycache__ $(VENV)/export-check/jetad_nb jetad_nb \
	  || (echo "ERROR: nbdev_export changed jetad_nb/: the modules are out of sync with nbs/ (run nbdev_export and commit)"; exit 1)
	@echo "export-check: jetad_nb/ matches nbs/"

# The style gate (ruff.toml): line length 120, one statement per line, sorted imports, pyflakes; over the package,
# the tests, the benchmarks and the notebooks' code cells.
lint: $(STAMP)
	$(BIN)/ruff check jetad_nb tests bench nbs setup.py

nbtest: $(STAMP)
	# one thread per notebook: two parallel notebooks with 2 torch threads each oversubscribe 2 cores (6x slower)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} MPLBACKEND=Agg PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/nbdev_test --n_workers $(NB_WORKERS) --timing --do_print

pytest: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest tests -ra --ignore=tests/test_docs_site.py

test: lint export-check nbtest pytest docs-test

# The documentation site, offline (nbdev_docs needs Quarto, which cannot be installed here; _quarto.yml stays valid
# for it). Notebooks run once into _proc/executed/ and are re-run only when they change; executed copies in
# runs/default/ (papermill outputs) are used instead where present.
DOCS_ARGS ?= $(if $(wildcard runs/default),--executed runs/default)
docs: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} JETAD_PROGRESS=0 PATH=$(abspath $(BIN)):$$PATH $(BIN)/python -m jetad_nb.site $(DOCS_ARGS) --out _docs

# Headless Chromium and its driver for the browser test (Debian/Ubuntu packages; sudo when not root).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser-deps:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || { \
	  echo "installing chromium chromium-driver with apt-get"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

docs-test: $(STAMP) browser-deps docs
	$(BIN)/python -m pytest tests/test_docs_site.py -ra

# The shipped samples in data/ (fixed seeds; a few minutes on 2 cores). See data/README.md.
data: $(STAMP)
	JETAD_PROGRESS=0 $(BIN)/jetad generate --preset tutorial --out data --workers 2

# JupyterLab on the notebooks (installed into .venv on first use; not needed by CI).
LAB_ARGS ?=
lab: $(STAMP)
	@test -x $(BIN)/jupyter-lab || $(BIN)/python -m pip install -q -c .ci/constraints.txt jupyterlab
	cd nbs && ../$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# README.md is nbs/index.ipynb rendered offline (nbdev_readme needs Quarto, which cannot be installed here);
# links made from nbs/ (images/..., other notebooks) get the nbs/ prefix they need from the top folder.
readme: $(STAMP)
	$(BIN)/jupyter nbconvert --to markdown --TemplateExporter.exclude_output=True --stdout nbs/index.ipynb | sed -e 's|](images/|](nbs/images/|g' -e 's|](\([0-9a-z_]*\)\.ipynb)|](nbs/\1.ipynb)|g' > README.md.tmp
	mv README.md.tmp README.md

bench: $(STAMP)
	$(BIN)/python bench/io_bench.py
	$(BIN)/python bench/generate_bench.py
	$(BIN)/python bench/images_bench.py
	$(BIN)/python bench/train_bench.py

clean:
	rm -rf $(VENV) _docs _proc runs .pytest_cache
