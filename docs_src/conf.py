"""Sphinx configuration of the docs site. The pages are the notebooks that `prepare.py` executed (jupyter-cache)
and nbdev processed (show_doc, directives); myst-nb renders them without executing, sphinx-book-theme lays them out.
`make docs` runs both: `python docs_src/prepare.py`, `sphinx-build -c docs_src _build/src _build/html`, then copies
the finished site to `_docs/`.
"""
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
_site = yaml.safe_load((ROOT / "nbs" / "nbdev.yml").read_text())["website"]

project = html_title = _site["title"]
extensions = ["myst_nb"]
nb_execution_mode = "off"            # prepare.py executed the notebooks (jupyter-cache) before nbdev processed them
nb_render_markdown_format = "myst"   # show_doc's output is markdown
myst_enable_extensions = ["dollarmath", "attrs_inline"]
myst_all_links_external = True       # prepare.py made every link a plain relative .html link
html_theme = "sphinx_book_theme"
html_theme_options = {"repository_url": _site["repo-url"], "use_repository_button": True, "show_toc_level": 2,
                      "use_download_button": False,  # the processed notebook is no use to download; the repo has it
                      "navbar_persistent": []}   # no second search bar across the top (pydata-sphinx-theme 0.20)
html_static_path = ["static"]
html_css_files = ["site.css"]
html_copy_source = html_show_sourcelink = False
exclude_patterns = ["**.ipynb_checkpoints"]


def _nbdev_anchors(app, doctree):
    "Give each show_doc heading (a rubric inside a cell output) nbdev's anchor, the lower-cased name (see _modidx)."
    from docutils import nodes
    for r in doctree.findall(nodes.rubric):
        if re.fullmatch(r"[\w.]+", r.astext()):
            r["ids"].insert(0, r.astext().lower())


def setup(app):
    app.connect("doctree-read", _nbdev_anchors)
