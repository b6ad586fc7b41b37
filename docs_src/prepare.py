"""The notebooks as the docs builder gets them: executed once, processed by nbdev, Quarto-only syntax translated.

python docs_src/prepare.py [--executed runs/default] [--out _build/src] [--pages 00_core.ipynb ...]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
import warnings
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
EXEC_ENV = {"JETAD_PROGRESS": "0", "OMP_NUM_THREADS": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}


class DocsError(Exception):
    "A notebook that cannot become a page: it failed to execute, or nbdev could not process it."


def read_sidebar(path=NBS / "sidebar.yml") -> list:
    "[(section title or None, [notebook names])] from nbdev's `website.sidebar.contents`."
    out = []
    for e in yaml.safe_load(Path(path).read_text())["website"]["sidebar"]["contents"]:
        if isinstance(e, dict):
            out.append((e["section"], list(e["contents"])))
        elif out and out[-1][0] is None:
            out[-1][1].append(e)
        else:
            out.append((None, [e]))
    return out


def page_stem(name: str) -> str:
    "The page name nbdev gives a notebook (its `output-file`): number prefix dropped, lower case."
    return re.sub(r"^\d+[a-zA-Z0-9]*_", "", Path(name).stem.lower())


def execute(names: list, cache_dir: Path, timeout: int | None = None) -> dict:
    "Execute the notebooks of nbs/ with jupyter-cache (two at a time; unchanged code is not re-run)."
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor
    if not names:
        return {}
    cache = get_cache(cache_dir)
    uris = [str(NBS / n) for n in names]
    for u in uris:
        cache.add_nb_to_project(u)
    os.environ.update(EXEC_ENV)
    res = load_executor("local-parallel", cache).run_and_cache(filter_uris=uris, timeout=timeout)
    bad = res.excepted + res.errored
    if bad:
        tb = {r.uri: r.traceback for r in cache.list_project_records() if r.uri in bad}
        tb = {u: re.sub(r"\x1b\[[0-9;]*m", "", t or "") for u, t in tb.items()}  # no terminal colours
        msg = "\n".join(f"{u}:\n{tb.get(u, '')[-1500:]}" for u in bad)
        raise DocsError(f"{len(bad)} notebook(s) failed to execute:\n{msg}")
    try:
        return {n: cache.merge_match_into_file(u)[1] for n, u in zip(names, uris)}
    except KeyError as e:
        raise DocsError(f"a notebook changed while it was executed; run again ({e})") from None


def from_run(path: Path) -> nbformat.NotebookNode:
    "An executed copy from a run folder (papermill), without papermill's injected-parameters cell."
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    return nb


def nbdev_process(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    "nbdev's own docs processing (what `nbdev_proc_nbs` does before Quarto): show_doc added, directives applied."
    from execnb.nbio import dict2nb
    from execnb.nbio import nb2str
    from nbdev.processors import FilterDefaults
    enb = dict2nb(nb)
    enb.path_ = str(NBS / name)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Found cells containing imports and other code")  # nbdev's style hint
        warnings.filterwarnings("ignore", category=nbformat.validator.MissingIDFieldWarning)  # cells nbdev adds
        try:
            FilterDefaults()(enb)
        except Exception as e:
            cause = f" ({type(e.__cause__).__name__}: {e.__cause__})" if e.__cause__ else ""
            lines = str(e).splitlines()  # nbdev's message: the notebook and cell number, then the cell's code
            raise DocsError(f"nbdev could not process {name}: {lines[0]} {lines[-1]}{cause}") from None
        for i, c in enumerate(enb.cells):  # the cells nbdev adds have none; fixed ids keep unchanged pages unchanged
            c.setdefault("id", f"nbdev-{i}")
        return nbformat.reads(nb2str(enb), as_version=4)


_QUARTO = re.compile(r"^#\|\s*([\w-]+):\s*(.*?)\s*$")
_TAGS = {("echo", "false"): "remove-input", ("output", "false"): "remove-output", ("include", "false"): "remove-cell",
         ("code-fold", "show"): "hide-input", ("code-fold", "true"): "hide-input"}


def _title_cell(cell) -> nbformat.NotebookNode:
    "nbdev's front matter (title, description) back as the `# Title` and `> description` the builders read."
    fm = yaml.safe_load(cell.source.strip().strip("-")) or {}
    desc = f"\n\n> {fm['description']}" if fm.get("description") else ""
    return nbformat.v4.new_markdown_cell(f"# {fm.get('title', '')}{desc}", id=cell.get("id", "title"))


def _quarto_to_tags(cell):
    "Quarto cell options that nbdev leaves in the code (`#| echo: false`, ...) as the tags the builders read."
    lines = cell.source.splitlines()
    n = next((i for i, line in enumerate(lines) if not _QUARTO.match(line)), len(lines))
    tags = {_TAGS[k] for line in lines[:n] if (k := _QUARTO.match(line).groups()) in _TAGS}
    cell.source = "\n".join(lines[n:])
    cell.metadata["tags"] = sorted(set(cell.metadata.get("tags", [])) | tags)


def local_paths() -> list:
    "(absolute path of this machine as a regex, what pages show instead), longest first."
    import sysconfig
    import tempfile
    subs = [(sysconfig.get_paths()["purelib"], "<site-packages>"), (str(ROOT), "<checkout>"),
            (str(ROOT.parent), "<checkout>/.."), (str(Path.home()), "~"), (tempfile.gettempdir(), "<tmp>")]
    subs = sorted((s for s in subs if len(Path(s[0]).parts) > 1), key=lambda s: -len(s[0]))  # never "/" alone
    return [(re.compile(re.escape(a) + r"(?=/|\b)"), b) for a, b in subs]


def unlocal_text(x, subs):
    "Text (str or list of lines) with this machine's absolute paths replaced."
    if isinstance(x, list):
        return [unlocal_text(s, subs) for s in x]
    for a, b in subs:
        x = a.sub(b, x)
    return x


def unlocal(cell, subs):
    "Remove this machine's absolute paths from a cell's text outputs (what the author wrote stays as written)."
    for o in cell.get("outputs", []):
        for k in ("text", "traceback"):
            if k in o:
                o[k] = unlocal_text(o[k], subs)
        for k, v in o.get("data", {}).items():
            if k.startswith("text/"):
                o["data"][k] = unlocal_text(v, subs)


def api_entries(pages: dict) -> set:
    "'core.html#seed_everything' for every show_doc entry of the processed notebooks {name: notebook}."
    return {f"{page_stem(n)}.html#{m.group(1).lower()}" for n, nb in pages.items() for c in nb.cells
            if c.cell_type == "code" and (m := re.search(r"^show_doc\(([\w.]+)\)", c.source, re.M))}


def _links(src: str, site: str, entries: set) -> str:
    "Links to notebooks and to API entries made relative; one to an entry that does not exist (a method or a "
    "private name: nbdev shows neither) goes to its class's entry or becomes plain code."
    def api(m):
        page, anchor = m.group(2), m.group(3)
        for a in (anchor, anchor.split(".")[0]):
            if f"{page}#{a}" in entries:
                return f"[{m.group(1)}]({page}#{a})"
        return m.group(1)
    src = re.sub(r"\]\((?:\./)?([\w-]+)\.ipynb", lambda m: f"]({page_stem(m.group(1))}.html", src)
    src = re.sub(r'(\[source\]\([^)\s]+\))\{target="_blank" [^}]*\}', r"\1", src)  # Quarto link attributes
    return re.sub(r"\[(`[^`]+`)\]\(" + re.escape(site.rstrip("/")) + r"/([\w-]+\.html)#([^)\s]+)\)", api, src)


def tidy_signature(md: str) -> str:
    "show_doc's signature block without nbdev's links on back-quoted names (code shows no markdown) or blank edges."
    def tidy(block):
        block = re.sub(r"\[(`[^`]+`)\]\([^)\s]+\)", r"\1", block)
        block = re.sub(r"\A(```\w*\n)\s*\n", r"\1", block)
        return re.sub(r"\n\s*\n(```)\Z", r"\n\1", block)
    return "".join(tidy(p) if p.startswith("```") else p for p in re.split(r"(```.*?```)", md, flags=re.S))


def for_builder(
    nb: nbformat.NotebookNode,  # processed by `nbdev_process`
    site: str,  # nbdev's doc site (`site-url` of nbs/nbdev.yml), which nbdev's links point to
    entries: set = frozenset(),  # the API entries of the site (`api_entries`)
) -> nbformat.NotebookNode:
    "The nbdev-processed notebook with its title cell, cell tags, relative links and no local paths."
    subs = local_paths()
    cells = []
    for c in nb.cells:
        if c.cell_type == "raw" and c.source.startswith("---"):
            c = _title_cell(c)
        if c.cell_type == "code":
            _quarto_to_tags(c)
        if c.cell_type == "markdown":
            c.source = _links(c.source, site, entries)
        for o in c.get("outputs", []):
            if "text/markdown" in o.get("data", {}):  # show_doc's output starts with a rule (---), a heading in Sphinx
                md = tidy_signature(re.sub(r"\A\s*---\s*\n", "", "".join(o["data"]["text/markdown"])))
                o["data"]["text/markdown"] = _links(md, site, entries)
        unlocal(c, subs)
        cells.append(c)
    nb.cells = cells
    return nb


def toctree_cell(sections: list, built: list) -> nbformat.NotebookNode:
    "The sidebar of nbs/sidebar.yml as hidden MyST toctrees (one per section, its title as caption) for the index."
    trees = []
    for title, names in sections:
        pages = [page_stem(n) for n in names if page_stem(n) != "index" and n in built]
        if pages:
            cap = f":caption: {title}\n" if title else ""
            trees.append("```{toctree}\n:hidden:\n" + cap + "\n" + "\n".join(pages) + "\n```")
    return nbformat.v4.new_markdown_cell("\n\n".join(trees), id="toctree")


def write_if_changed(path: Path, text: str):
    "Write `text` to `path` (temporary file, then rename) only when it differs, so Sphinx re-reads changed pages only."
    if path.is_file() and path.read_text() == text:
        return
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def prepare(
    names: list,  # notebooks of nbs/ (sidebar names)
    out: Path,  # folder of the pages for Sphinx
    cache: Path,  # jupyter-cache folder
    executed: Path | None = None,  # folder of executed copies (papermill outputs); None: execute all here
    timeout: int | None = 600,  # seconds allowed per cell
) -> list:  # the pages written
    "Executed (or taken from `executed`), nbdev-processed, translated notebooks in `out`, with the index's toctree."
    out, cache = Path(out).resolve(), Path(cache).resolve()
    runs = {n: Path(executed) / n for n in names if executed and (Path(executed) / n).is_file()}
    t0 = time.time()
    nbs = execute([n for n in names if n not in runs], cache, timeout)
    print(f"docs: executed or cached {len(nbs)} notebooks in {time.time() - t0:.0f} s; {len(runs)} from {executed}")
    nbs.update({n: from_run(p) for n, p in runs.items()})
    out.mkdir(parents=True, exist_ok=True)
    site = yaml.safe_load((NBS / "nbdev.yml").read_text())["website"]["site-url"]
    t0, cwd = time.time(), os.getcwd()
    os.chdir(NBS)  # where the kernels ran: nbdev runs the export and import cells again for show_doc
    try:
        processed = {n: nbdev_process(nbs[n], n) for n in names}
    finally:
        os.chdir(cwd)
    entries = api_entries(processed)
    for n, nb in processed.items():
        nb = for_builder(nb, site, entries)
        if page_stem(n) == "index":
            nb.cells.append(toctree_cell(read_sidebar(), names))
        write_if_changed(out / f"{page_stem(n)}.ipynb", nbformat.writes(nb))
    shutil.copytree(NBS / "images", out / "images", dirs_exist_ok=True)
    print(f"docs: nbdev processed {len(names)} notebooks in {time.time() - t0:.0f} s")
    return [out / f"{page_stem(n)}.ipynb" for n in names]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="docs_src/prepare.py", description=__doc__.splitlines()[0])
    ap.add_argument("--executed", help="folder of executed copies (papermill outputs, e.g. runs/default)")
    ap.add_argument("--out", default=str(ROOT / "_build" / "src"), help="folder of the pages for Sphinx")
    ap.add_argument("--cache", default=str(ROOT / "_build" / "jupyter_cache"), help="jupyter-cache folder")
    ap.add_argument("--pages", nargs="+", help="only these notebooks of nbs/sidebar.yml")
    ap.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    a = ap.parse_args(argv)
    names = a.pages or [n for _, ps in read_sidebar() for n in ps]
    unknown = sorted(set(names) - {n for _, ps in read_sidebar() for n in ps})
    if unknown:
        print(f"docs: error: --pages {unknown} are not in {NBS / 'sidebar.yml'}", file=sys.stderr)
        return 2
    try:
        written = prepare(names, Path(a.out), Path(a.cache), a.executed, a.timeout)
    except DocsError as e:
        print(f"docs: error: {e}", file=sys.stderr)
        return 2
    for old in Path(a.out).resolve().glob("*.ipynb") if not a.pages else []:  # pages no longer in the sidebar
        if old not in written:
            old.unlink()


if __name__ == "__main__":
    sys.exit(main())
