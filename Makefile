# jetad-nb: two commands do all the set-up on a fresh machine (Python 3.10+ and make only).
#   make run   - create .venv, install, run the main job on the shipped samples
#   make test  - create/update .venv, lint, check the export, run every notebook and the pytest suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NB_WORKERS ?= 2
RUN_ARGS ?=

.PHONY: run test wheel-check lab install lint export-check nbtest pytest docs docs-test browser-deps bench readme data clean help

help:
	@echo "make run | make test | make lab | make install | make docs | make readme | make data | make bench | make clean"
	@echo "  make docs       - build the documentation site into _docs/ (Sphinx; executes the notebooks once; no Quarto)"
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

test: lint export-check nbtest pytest docs-test wheel-check

# The package as users get it: build the wheel, install it into a fresh virtual environment outside the checkout
# (torch pinned first, as for .venv), and run the first quick notebooks from an empty folder with an empty cache: the
# wheel's notebooks run, and the tutorial samples are made on first use and checked against the hashes of data/.
WHEEL_CHECK ?= $(or $(TMPDIR),/tmp)/jetad-wheel-check
wheel-check: $(STAMP)
	rm -rf $(WHEEL_CHECK) && mkdir -p $(WHEEL_CHECK)/work
	$(BIN)/python -m build --outdir $(WHEEL_CHECK)/dist . > $(WHEEL_CHECK)/build.log 2>&1 || { tail -20 $(WHEEL_CHECK)/build.log; exit 1; }
	$(PYTHON) -m venv $(WHEEL_CHECK)/venv
	$(WHEEL_CHECK)/venv/bin/python -m pip install -q --upgrade pip
	$(WHEEL_CHECK)/venv/bin/python -m pip install -q "torch==2.13.0"
	$(WHEEL_CHECK)/venv/bin/python -m pip install -q -c .ci/constraints.txt $(WHEEL_CHECK)/dist/*.whl
	cd $(WHEEL_CHECK)/work && env -u JETAD_DATA -u JETAD_SHARED_DATA JETAD_CACHE=$(WHEEL_CHECK)/cache \
	  OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} ../venv/bin/jetad run --only 00,01
	! grep -l -e "$(WHEEL_CHECK)" -e "$(CURDIR)" $(WHEEL_CHECK)/work/runs/default/report.html $(WHEEL_CHECK)/work/runs/default/*.ipynb
	cd $(WHEEL_CHECK)/work && ../venv/bin/jetad lab --no-open && test -f jetad-notebooks/15_resonant_search.ipynb
	@echo "wheel-check: the wheel runs from an empty folder ($(WHEEL_CHECK))"

# The documentation site (see nbs/18_docs_site.ipynb): docs_src/prepare.py executes the notebooks once into a
# jupyter-cache (_build/jupyter_cache; only notebooks whose code changed run again; executed copies in runs/default/,
# papermill's outputs, are used where present, without papermill's injected parameters), nbdev processes them
# (show_doc, directives), and Sphinx + myst-nb + sphinx-book-theme render them (docs_src/conf.py) into _build/html
# (kept for incremental builds; myst-nb puts figures beside it), copied to _docs/ when complete.
# nbdev_docs (Quarto, not installable here) builds from the same nbs/, sidebar.yml and _quarto.yml.
DOCS_ARGS ?= $(if $(wildcard runs/default),--executed runs/default)
docs: $(STAMP)
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/python docs_src/prepare.py $(DOCS_ARGS)
	$(BIN)/sphinx-build -q -b html -c docs_src -d _build/doctrees _build/src _build/html
	rm -rf _docs.tmp && cp -r _build/html _docs.tmp && rm -rf _docs && mv _docs.tmp _docs

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
	rm -rf $(VENV) _docs _docs.tmp _build _proc runs .pytest_cache
