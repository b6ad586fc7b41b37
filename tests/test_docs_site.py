"""Browser test of the documentation site: serve `_docs/` (built by `make docs`), load every page in headless Chromium.

Checks: every internal link answers 200, every image decodes (naturalWidth > 0), every page has the sidebar and
the API entries of its module; saves a screenshot of the index to `_docs/_screenshots/index.png`.
`make test` runs it through `make docs-test` (which installs chromium and builds the site first).
"""
import functools
import http.server
import importlib
import os
import shutil
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "_docs"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
IN_CI = bool(os.environ.get("CI"))

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
  sidebarLinks: Array.from(document.querySelectorAll('#sidebar a')).map(a => a.getAttribute('href')),
  api: Array.from(document.querySelectorAll('.api-entry')).map(e => e.dataset.name),
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

def check_page(driver, base:str, page:str):
    "Load base+page; return (problems, page facts). Problems: broken internal links and anchors, images that "
    "do not decode."
    driver.get(base + page)
    info = driver.execute_script(_PAGE_JS)
    problems, ids = [], set(info["ids"])
    for raw, absolute in info["links"]:
        if not absolute.startswith(base):
            continue          # external links are not ours to check offline
        url, _, frag = absolute.partition("#")
        if raw.startswith("#"):
            if frag and urllib.parse.unquote(frag) not in ids:
                problems.append(f"{page}: anchor {raw} has no target")
            continue
        st = _status(url)
        if st != 200:
            problems.append(f"{page}: broken link {raw} ({st})")
    problems += [f"{page}: image does not load: {src}" for src in info["badImages"]]
    return problems, info

# ---------------------------------------------------------------- the checker can fail
def test_checker_finds_broken_link_and_image(tmp_path, driver, serve):
    "A page with a broken link and a missing image is reported; its clean twin is not."
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    ok = (f'<html><body id="top"><a href="b.html">b</a> <a href="#top">up</a>'
          f'<img src="data:image/png;base64,{png}"></body></html>')
    (tmp_path / "a.html").write_text(ok)
    (tmp_path / "b.html").write_text(ok)
    (tmp_path / "broken.html").write_text(
        ok.replace(
            "</body>",
            '<a href="no-such-page.html">x</a><a href="#nowhere">y</a><img src="missing.png"><img '
            'src="data:image/png;base64,AAAA"></body>',
        )
    )
    base = serve(tmp_path)
    problems, _ = check_page(driver, base, "a.html")
    assert problems == []
    problems, _ = check_page(driver, base, "broken.html")
    text = "\n".join(problems)
    assert "broken link no-such-page.html (404)" in text
    assert "anchor #nowhere" in text
    assert "image does not load: missing.png" in text
    assert "image does not load: data:image/png;base64,AAAA" in text
    assert len(problems) == 4, problems

# ---------------------------------------------------------------- the real site
@pytest.fixture(scope="module")
def site():
    _need((DOCS / "index.html").is_file(), f"{DOCS}/index.html is missing: run `make docs` first")
    return DOCS

def test_every_page(site, driver, serve):
    "Every sidebar page loads with the sidebar, working links and images, and its module's API entries."
    import nbformat

    from jetad_nb.site import notebook_info
    from jetad_nb.site import read_sidebar
    pages = [p for _, ps in read_sidebar(ROOT / "nbs" / "sidebar.yml") for p in ps]
    base = serve(site)
    problems, n_images = [], 0
    for nb in pages:
        page = nb[:-6] + ".html"
        if not (site / page).is_file():
            problems.append(f"{page}: not built (listed in nbs/sidebar.yml)")
            continue
        p, info = check_page(driver, base, page)
        problems += p
        n_images += info["nImages"]
        if sorted(info["sidebarLinks"]) != sorted(q[:-6] + ".html" for q in pages):
            problems.append(f"{page}: the sidebar does not list exactly the {len(pages)} pages")
        mod = notebook_info(nbformat.read(ROOT / "nbs" / nb, as_version=4), nb)["module"]
        names = list(getattr(importlib.import_module(f"jetad_nb.{mod}"), "__all__", [])) if mod else []
        if names and not info["api"]:
            problems.append(f"{page}: no API entries (jetad_nb.{mod} exports {len(names)} names)")
        elif sorted(info["api"]) != sorted(names):
            problems.append(
                f"{page}: API entries {sorted(set(names) ^ set(info['api']))} differ from jetad_nb.{mod}.__all__"
            )
    assert not problems, "\n".join(problems)
    assert n_images > 0, "no images on the whole site: the figures of the executed notebooks are missing"

def test_screenshot_index(site, driver, serve):
    "Save a screenshot of the index (for people to look at) and check it is a real picture."
    shots = site / "_screenshots"
    shots.mkdir(exist_ok=True)
    driver.set_window_size(1280, 900)
    driver.get(serve(site) + "index.html")
    assert driver.find_element("css selector", "#sidebar").is_displayed()
    assert driver.save_screenshot(str(shots / "index.png"))
    assert (shots / "index.png").stat().st_size > 10_000
