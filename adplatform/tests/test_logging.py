import json
import logging

import pytest

from adplatform.core.logging import JSONFormatter, RequestIDFilter, redact


def _format(record: logging.LogRecord) -> dict:
    RequestIDFilter().filter(record)
    return json.loads(JSONFormatter().format(record))


def test_json_line_with_extra_fields():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    record.user_id = 7
    line = _format(record)
    assert line["message"] == "hello world"
    assert line["level"] == "INFO"
    assert line["user_id"] == 7


def test_credentials_never_reach_the_log():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "auth header Token adp_abcdefghijklmnopqrstuvwxyz0123", (), None
    )
    record.signing_secret = "gs_topsecretvalue"
    record.password = "hunter2"
    record.payload = {"api_key": "gk_abcdef", "token_id": 4}
    text = JSONFormatter().format(record)
    assert "abcdefghijklmnopqrstuvwxyz0123" not in text
    assert "topsecretvalue" not in text
    assert "hunter2" not in text
    assert "gk_abcdef" not in text
    assert '"token_id": 4' in text


@pytest.mark.parametrize(
    "raw",
    ["token=abcdef123456", "Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig123", 'password: "p4ssw0rd!!"'],
)
def test_redact_masks_credential_patterns(raw):
    assert "[redacted]" in redact(raw)


@pytest.mark.django_db
def test_access_log_has_request_id_and_no_credentials(token_client, owner, caplog):
    client = token_client(owner)
    raw = client._credentials["HTTP_AUTHORIZATION"].split()[1]
    with caplog.at_level(logging.INFO, logger="adplatform.access"):
        client.get("/api/v1/me?token=" + raw, HTTP_X_REQUEST_ID="trace-1")
    records = [r for r in caplog.records if r.name == "adplatform.access"]
    assert records, "one access line per request"
    line = _format(records[-1])
    assert line["request_id"] == "trace-1"
    assert line["status"] == 200
    assert raw not in json.dumps(line)
