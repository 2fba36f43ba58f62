"""The code's shape: what the service may import from model/, and which way dependencies flow."""
import ast
from pathlib import Path

import model

ROOT = Path(__file__).resolve().parents[1]


def imports_of(folder: str, pattern: str = "**/*.py") -> list[tuple[str, str | None]]:
    """(module, name) for every `from X import name` and (module, None) for every `import X` in the files
    matching `pattern` under folder."""
    found = []
    for path in (ROOT / folder).glob(pattern):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found += [(node.module, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [(alias.name, None) for alias in node.names]
    return found


def test_model_exports_exactly_what_the_service_imports():
    from_model = [(module, name) for module, name in imports_of("service") if module.split(".")[0] == "model"]
    assert from_model, "the service imports nothing from model/?"
    assert all(module == "model" for module, _ in from_model), f"service reaches into model's modules: {from_model}"
    assert sorted({name for _, name in from_model}) == sorted(model.__all__)


def test_dependencies_flow_corpus_to_model_to_service():
    assert not [m for m, _ in imports_of("model") if m.split(".")[0] in ("service", "flask", "scripts", "bench")]
    assert not [m for m, _ in imports_of("corpus") if m.split(".")[0] in ("model", "service", "flask")]
    # What the service loads does not depend on training or research code, but for the two
    # training-only regularisers the network applies.
    top = [(m, n) for m, n in imports_of("model", "*.py") if m.startswith(("model.training", "model.evaluation"))]
    assert sorted(top) == [("model.training.regularizers", "recurrent_drop_connect"),
                   ("model.training.regularizers", "word_type_dropout")]
