"""The module map on the docs' index page stays true: floors, imports, no private names across modules."""

import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "jetad_nb"


def package_imports(module: str) -> tuple[set, list]:
    "Modules of the package that `module` imports (anywhere in it), and the private names it takes from them."
    deps, private = set(), []
    for n in ast.walk(ast.parse((PKG / f"{module}.py").read_text())):
        if not isinstance(n, ast.ImportFrom) or not n.module:
            continue
        if n.level == 1:
            dep = n.module.split(".")[0]
        elif n.module.startswith("jetad_nb."):
            dep = n.module.split(".")[1]
        else:
            continue
        deps.add(dep)
        private += [f"{module} imports {dep}.{a.name}" for a in n.names if a.name.startswith("_")]
    return deps - {module}, private


def modules() -> list:
    "The package's modules (without nbdev's index)."
    return sorted(p.stem for p in PKG.glob("*.py") if not p.stem.startswith("_"))


def index_map() -> dict:
    "{module: (floor, set of imported modules)} from the map table on the docs' index page."
    nb = json.loads((ROOT / "nbs" / "index.ipynb").read_text())
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    rows = re.findall(r"^\|\s*(\d+)\s*\|\s*`(\w+)`\s*\|[^|]*\|[^|]*\|([^|]*)\|\s*$", text, flags=re.M)
    return {m: (int(f), set(re.findall(r"`(\w+)`", imp))) for f, m, imp in rows}


def test_no_private_names_across_modules():
    bad = [p for m in modules() for p in package_imports(m)[1]]
    assert not bad, bad


def test_index_map_lists_every_module_with_its_imports():
    mapped = index_map()
    assert sorted(mapped) == modules(), "the index page's map must list every module once"
    for m in modules():
        assert mapped[m][1] == package_imports(m)[0], (
            f"{m}: map says {sorted(mapped[m][1])}, code imports {sorted(package_imports(m)[0])}"
        )


def test_imports_go_down_the_floors():
    mapped = index_map()
    for m, (floor, deps) in mapped.items():
        for d in deps:
            assert mapped[d][0] < floor, f"{m} (floor {floor}) imports {d} (floor {mapped[d][0]})"
        assert floor == 1 + max((mapped[d][0] for d in deps), default=-1), (
            f"{m}: floor should be one above its highest import"
        )
