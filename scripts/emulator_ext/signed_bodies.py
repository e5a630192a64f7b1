"""Signatures checked against the bytes that were signed.

With IAM authorization enforced, moto 5.2.5 in server mode checks a request's SigV4 signature
against the form it parsed, re-encoded the way botocore encodes it, because werkzeug has already
consumed the body when moto looks for it. A client that percent-encodes a form body otherwise
(the AWS SDK for Rust encodes a space as `%20`, where the re-encoded form has `+`) is then refused with
SignatureDoesNotMatch, though AWS accepts it: AWS signs and checks the bytes as sent.

This keeps the bytes: every request reads and caches its body before werkzeug parses the form
(werkzeug then parses the form from the cache), so moto checks the signature against exactly
what the client signed.
"""
from moto.core.request import Request

_original_init = Request.__init__


def _init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    self.get_data(cache=True, parse_form_data=False)


def install() -> None:
    Request.__init__ = _init
