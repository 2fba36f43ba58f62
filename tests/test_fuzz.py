"""Schemathesis generates requests from /openapi.json and checks every response against it:
no 5xx, documented status codes and content types, bodies that match their schema, and
schema-violating requests rejected with a 4xx. 500+ generated cases in all, valid and invalid."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from service import create_app

pytestmark = pytest.mark.slow

# Every default check runs, with two adjustments:
# - "schema-valid data is accepted" cannot hold for an opaque signed token: any string matches the
#   token's schema, and only tokens this service signed are accepted;
# - a schema-violating body over the size limit is rightly refused with 413 before it is parsed.
CONFIG = SchemathesisConfig.from_str("""
[checks.positive_data_acceptance]
enabled = false
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
""")
# Cases per operation and mode; operations without inputs (GETs) yield few distinct cases.
EXAMPLES = {"POST /v1/predict": 150, "POST /v1/generate": 100, "POST /v1/admin/reload": 10}
MIN_CASES = 500


@pytest.fixture(scope="module", params=["tiny_models_dir", "cache_models_dir"])
def schema(request):
    """The tiny model, and the same as a version with the document cache (another path through /v1/predict)."""
    models_dir = request.getfixturevalue(request.param)
    app = create_app({"models_dir": models_dir, "reload_interval": 0, "admin_token": "fuzz-admin-token"})
    return schemathesis.openapi.from_wsgi("/openapi.json", app, config=CONFIG)


def test_api_conforms_to_its_openapi_document(schema):
    counts: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        # Invalid input needs an input to break: the GETs take none.
        modes = list(GenerationMode) if operation.method.upper() == "POST" else [GenerationMode.POSITIVE]
        for mode in modes:
            n = EXAMPLES.get(operation.label, 5)

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            def run(case):
                # Called at once, just below, inside this iteration: the loop variable is the one meant.
                counts[operation.label] = counts.get(operation.label, 0) + 1  # noqa: B023
                case.call_and_validate()

            run()
    assert set(counts) >= set(EXAMPLES), counts
    assert sum(counts.values()) >= MIN_CASES, counts
