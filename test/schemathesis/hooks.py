"""Schemathesis hooks: sign webhook bodies the way Begini does, and allow only the deliberate 503.

Loaded with SCHEMATHESIS_HOOKS=hooks (this folder on PYTHONPATH). BEGINI_API_KEY is the stack's key.
"""
import hashlib
import hmac
import json
import os

import schemathesis

KEY = os.environ["BEGINI_API_KEY"].encode()


@schemathesis.hook
def before_call(context, case, kwargs):
    # The HMAC covers the exact bytes sent, so the body is serialised here, once, and sent as is.
    if case.operation.path != "/webhooks/begini" or case.method.upper() != "POST":
        return
    body = case.body
    if type(body).__name__ == "NotSet":  # no body at all: nothing to sign, and a 403 is the answer
        return
    raw = bytes(body) if isinstance(body, (bytes, bytearray)) else json.dumps(body).encode()
    case.body = raw
    case.headers = {**(case.headers or {}), "x-signature": hmac.new(KEY, raw, hashlib.sha512).hexdigest()}


@schemathesis.check
def no_server_error_but_503(ctx, response, case):
    """A 5xx means "retry later": only 503 (Temporal unavailable or overloaded) may be one."""
    if response.status_code >= 500 and response.status_code != 503:
        raise AssertionError(f"unexpected {response.status_code}: {response.text[:200]}")
