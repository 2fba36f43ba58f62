"""The docs say what the code does: every module they run exists, every make target they name is in
the Makefile, every script and relative link they point to is there, every preset they name loads."""
import importlib.util
import re
from pathlib import Path

import pytest

from model.training.presets import preset_names

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "corpus" / "user" / "README.md"]
# Names in docs/results.md and docs/benchmarks.md's records of past runs, which ran under the old names.
HISTORY = {"model.train", "model.evaluate"}


def doc_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_module_a_doc_runs_exists(doc):
    modules = set(re.findall(r"python3? -m ([A-Za-z_][\w.]*)", doc_text(doc)))
    missing = sorted(m for m in modules - HISTORY if m.split(".")[0] in ("model", "corpus", "service", "scripts", "bench")
                     and importlib.util.find_spec(m) is None)
    assert not missing, missing


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_make_target_and_script_a_doc_names_exists(doc):
    makefile = doc_text(ROOT / "Makefile")
    targets = set(re.findall(r"^([\w-]+):", makefile, flags=re.M))
    text = doc_text(doc)
    named = set(re.findall(r"`make ([a-z][\w-]*)", text))
    assert named <= targets, sorted(named - targets)
    scripts = set(re.findall(r"\b((?:bench|scripts)/[\w/]+\.(?:py|sh))\b", text))
    assert all((ROOT / s).is_file() for s in scripts), sorted(s for s in scripts if not (ROOT / s).is_file())


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc):
    links = re.findall(r"\]\(([^)\s]+)\)", doc_text(doc))
    broken = [link for link in links if not re.match(r"[a-z]+:", link) and not link.startswith("#")
              and not (doc.parent / link.split("#", 1)[0]).exists()]
    assert not broken, broken


def test_every_preset_the_docs_name_exists_and_the_table_lists_them_all():
    named = set(re.findall(r"--preset ([a-z][\w-]*)", "".join(doc_text(d) for d in DOCS)))
    assert named and named <= set(preset_names()), sorted(named - set(preset_names()))
    table = doc_text(ROOT / "docs" / "training.md").split("## Presets", 1)[1].split("\n## ", 1)[0]
    assert sorted(re.findall(r"^\| `([\w-]+)` \|", table, flags=re.M)) == preset_names()
