"""Browser test of the documentation site: serve `_docs/` (built by `make docs`), load every page in headless Chromium.

Checks: every internal link answers 200 and every anchor it points to exists (nbdev's API links included), every
image decodes, the sidebar lists every page of `nbs/sidebar.yml`, every public function and class of a module has
its show_doc entry (nbdev's anchor) with its docments on the page `_modidx` names, the search finds an API name, and
no file of the site holds an absolute path of the machine that built it. Saves a screenshot of the index to
`_docs/_screenshots/index.png`. `make test` runs it through `make docs-test` (installs chromium, builds the site).
"""
import functools
import http.server
import importlib
import importlib.util
import inspect
import os
import re
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "_docs"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
IN_CI = bool(os.environ.get("CI"))
_spec = importlib.util.spec_from_file_location("docs_prepare", ROOT / "docs_src" / "prepare.py")
prepare = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(prepare)


def _need(ok: bool, reason: str):
    "Skip outside CI, fail in CI (where make docs-test provides everything)."
    if ok:
        return
    if IN_CI:
        pytest.fail(reason + " (CI is set: this must not be skipped)")
    pytest.skip(reason)

# ---------------------------------------------------------------- serving and browsing
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass

class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    def handle_error(self, request, client_address):
        "The browser drops connections it no longer needs (BrokenPipe); those are not errors of the site."
        import sys
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

@pytest.fixture(scope="module")
def serve():
    "serve(folder) -> base URL of an http.server on a free localhost port (stopped at the end)."
    servers = []
    def _serve(folder):
        srv = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/"
    yield _serve
    for s in servers:
        s.shutdown()
        s.server_close()

@pytest.fixture(scope="module")
def driver():
    _need(
        CHROMIUM.exists() and CHROMEDRIVER.exists(),
        f"{CHROMIUM} or {CHROMEDRIVER} is absent (make browser-deps installs them)",
    )
    webdriver = (
        pytest.importorskip("selenium.webdriver") if not IN_CI else importlib.import_module("selenium.webdriver")
    )
    from selenium.webdriver.chrome.service import Service
    profile = tempfile.mkdtemp(prefix="jetad-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for a in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,900"]:
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=opts)
    d.set_page_load_timeout(60)
    yield d
    d.quit()
    shutil.rmtree(profile, ignore_errors=True)

_PAGE_JS = """
return {
  links: Array.from(document.querySelectorAll('a[href]')).map(a => [a.getAttribute('href'), a.href]),
  badImages: Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))
                  .map(i => (i.getAttribute('src') || '').slice(0, 60)),
  nImages: document.images.length,
  ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
  sidebarLinks: Array.from(document.querySelectorAll('nav.bd-docs-nav a')).map(a => a.getAttribute('href')),
  text: document.body.innerText,
  title: document.title,
};"""

def _status(url, cache={}):
    "HTTP status of a GET of `url` (cached)."
    if url not in cache:
        try:
            with urllib.request.urlopen(url, timeout=20) as r:
                cache[url] = r.status
        except urllib.error.HTTPError as e:
            cache[url] = e.code
        except OSError as e:
            cache[url] = repr(e)
    return cache[url]

def check_pages(driver, base:str, pages:list):
    "Load base+page for every page; return (problems, {page: facts}). Problems: broken internal links, anchors "
    "without a target (on the same or another page of `pages`), images that do not decode."
    problems, infos, targets = [], {}, []
    for page in pages:
        driver.get(base + page)
        info = infos[page] = driver.execute_script(_PAGE_JS)
        for raw, absolute in info["links"]:
            if not absolute.startswith(base):
                continue          # external links are not ours to check offline
            url, _, frag = absolute.partition("#")
            st = _status(url)
            if st != 200:
                problems.append(f"{page}: broken link {raw} ({st})")
            elif frag:
                targets.append((page, raw, url[len(base):] or "index.html", urllib.parse.unquote(frag)))
        problems += [f"{page}: image does not load: {src}" for src in info["badImages"]]
    for page, raw, target, frag in targets:
        if target in infos and frag not in infos[target]["ids"]:
            problems.append(f"{page}: anchor {raw} has no target")
    return problems, infos

# ---------------------------------------------------------------- local paths
_LOCAL = re.compile(r"(?:/work|/tmp|/root|/home|/Users)/[\w.@-]+")

def _authored() -> set:
    "The absolute-looking paths that the notebooks' own text contains (`/tmp/q` in an exercise): not leaks."
    return {m for p in (ROOT / "nbs").glob("*.ipynb") for m in _LOCAL.findall(p.read_text(errors="replace"))}

def local_paths(folder:Path, allowed:set=frozenset()) -> list:
    "'file: path' for every absolute path of a build machine in the text files of `folder` (images excluded)."
    exact = {str(ROOT), str(Path.home())} - {"/"}
    out = []
    for f in sorted(folder.rglob("*")):
        if f.suffix not in {".html", ".js", ".json", ".txt", ".css", ".ipynb", ".inv", ".xml"} or not f.is_file():
            continue
        text = f.read_text(errors="replace")
        hits = {m for m in _LOCAL.findall(text) if m not in allowed} | {e for e in exact if e + "/" in text}
        out += [f"{f.relative_to(folder)}: {h}" for h in sorted(hits)]
    return out

# ---------------------------------------------------------------- the checkers can fail
def test_checker_finds_broken_link_anchor_and_image(tmp_path, driver, serve):
    "Pages with a broken link, missing anchors (here and on another page) and images are reported; clean ones not."
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    ok = (f'<html><body id="top"><a href="b.html#top">b</a> <a href="#top">up</a>'
          f'<img src="data:image/png;base64,{png}"></body></html>')
    (tmp_path / "a.html").write_text(ok)
    (tmp_path / "b.html").write_text(ok)
    (tmp_path / "broken.html").write_text(
        ok.replace(
            "</body>",
            '<a href="no-such-page.html">x</a><a href="#nowhere">y</a><a href="a.html#gone">z</a>'
            '<img src="missing.png"><img src="data:image/png;base64,AAAA"></body>',
        )
    )
    base = serve(tmp_path)
    problems, _ = check_pages(driver, base, ["a.html", "b.html"])
    assert problems == []
    problems, _ = check_pages(driver, base, ["a.html", "broken.html"])
    text = "\n".join(problems)
    assert "broken link no-such-page.html (404)" in text
    assert "anchor #nowhere" in text and "anchor a.html#gone" in text
    assert "image does not load: missing.png" in text
    assert "image does not load: data:image/png;base64,AAAA" in text
    assert len(problems) == 5, problems

def test_local_path_checker(tmp_path):
    "A page holding the checkout's path or a temporary folder is reported; an authored path is allowed."
    (tmp_path / "ok.html").write_text("<pre>&lt;checkout&gt;/data and --out /tmp/q</pre>")
    (tmp_path / "bad.html").write_text(f"<pre>{ROOT}/data/x.h5 /tmp/tmpab12cd/f /home/someone/x</pre>")
    found = local_paths(tmp_path, allowed={"/tmp/q"})
    assert f"bad.html: {ROOT}" in found and "bad.html: /tmp/tmpab12cd" in found and "bad.html: /home/someone" in found
    assert not [f for f in found if f.startswith("ok.html")], found

# ---------------------------------------------------------------- the real site
@pytest.fixture(scope="module")
def site():
    _need((DOCS / "index.html").is_file(), f"{DOCS}/index.html is missing: run `make docs` first")
    return DOCS

def _api_by_page() -> dict:
    "{page: [(symbol, anchor)]}: the public module-level names nbdev documents, where `_modidx` says they are."
    from jetad_nb._modidx import d
    out = {}
    for syms in d["syms"].values():
        for sym, (url, _) in syms.items():
            if sym.count(".") == 2 and not sym.rsplit(".", 1)[1].startswith("_"):
                page, _, anchor = url.partition("#")
                out.setdefault(page, []).append((sym, anchor))
    return out

def _docments(sym:str) -> list:
    "The docments (parameter comments) of a function, which its show_doc entry shows in the signature."
    from fastcore.docments import docments
    mod, name = sym.rsplit(".", 1)
    obj = getattr(importlib.import_module(mod), name)
    if not inspect.isfunction(obj):
        return []  # a class's entry shows its signature; a dataclass's field comments are not in it
    return [v for v in docments(obj).values() if v]

def test_every_page(site, driver, serve):
    "Every sidebar page loads with the sidebar, working links, anchors and images, and its show_doc API entries."
    sections = prepare.read_sidebar()
    pages = [prepare.page_stem(n) + ".html" for _, ns in sections for n in ns]
    missing = [p for p in pages if not (site / p).is_file()]
    assert not missing, f"not built (listed in nbs/sidebar.yml): {missing}"
    problems, infos = check_pages(driver, serve(site), pages)
    api, n_images = _api_by_page(), 0
    for page, info in infos.items():
        n_images += info["nImages"]
        listed = set(info["sidebarLinks"]) - {"#", "index.html", page}     # the current page may show as '#' or itself
        if sorted(listed) != sorted(p for p in pages if p not in ("index.html", page)):
            problems.append(f"{page}: the sidebar does not list the {len(pages) - 1} pages after the index")
        for sym, anchor in api.get(page, []):
            if anchor not in info["ids"]:
                problems.append(f"{page}: no show_doc entry #{anchor} for {sym}")
            problems += [f"{page}: docment of {sym} not shown: {c!r}" for c in _docments(sym) if c not in info["text"]]
    assert not [p for p in api if p not in infos], f"_modidx names pages that are not built: {sorted(api)}"
    assert not problems, "\n".join(problems)
    assert n_images > 0, "no images on the whole site: the figures of the executed notebooks are missing"

def test_search_finds_an_api_name(site, driver, serve):
    "Sphinx's search page lists the page of seed_everything when asked for it."
    driver.get(serve(site) + "search.html?q=seed_everything")
    hrefs = []
    for _ in range(40):
        hrefs = driver.execute_script(
            "return Array.from(document.querySelectorAll('#search-results a')).map(a => a.getAttribute('href'))")
        if hrefs:
            break
        time.sleep(0.25)
    assert any(h.startswith("core.html") for h in hrefs), hrefs

def test_no_local_paths(site):
    "No file of the site holds an absolute path of the build machine (papermill's parameters, outputs, warnings)."
    found = local_paths(site, _authored())
    assert not found, "\n".join(found[:30])

def test_screenshot_index(site, driver, serve):
    "Save a screenshot of the index (for people to look at) and check it is a real picture."
    shots = site / "_screenshots"
    shots.mkdir(exist_ok=True)
    driver.set_window_size(1280, 900)
    driver.get(serve(site) + "index.html")
    assert driver.find_element("css selector", "nav.bd-docs-nav").is_displayed()
    assert driver.save_screenshot(str(shots / "index.png"))
    assert (shots / "index.png").stat().st_size > 10_000
