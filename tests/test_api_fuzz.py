"""Property-based API test: schemathesis drives every operation from /openapi.json; nothing answers 500."""
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from web import create_app

app = create_app({"decision_log": "false", "max_batch": 3})
schema = schemathesis.openapi.from_wsgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_answers_500(case):
    case.call_and_validate(checks=[not_a_server_error])
