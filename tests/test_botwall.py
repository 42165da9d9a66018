"""Recognising anti-bot challenge pages by their headers and markup, and nothing else."""
from __future__ import annotations

import pytest

from tasks.botwall import challenge_vendor

CASES = [
    ("cloudflare header", 403, {"cf-mitigated": "challenge", "cf-ray": "1-AMS"}, b"<html></html>", "Cloudflare"),
    ("cloudflare markup", 503, {"server": "cloudflare", "cf-ray": "1-AMS"},
     b"<title>Just a moment...</title><script src='/cdn-cgi/challenge-platform/x'>", "Cloudflare"),
    ("datadome header", 403, {"x-datadome": "protected"}, b"", "DataDome"),
    ("datadome markup", 403, {}, b"<script src='https://geo.captcha-delivery.com/captcha/'>", "DataDome"),
    ("perimeterx", 403, {}, b"<div id='px-captcha'></div><script>window._pxAppId='PX1'</script>", "PerimeterX"),
    ("imperva", 403, {"x-iinfo": "7-1234"}, b"<iframe src='/_Incapsula_Resource?x'>", "Imperva"),
    ("akamai", 403, {"server": "AkamaiGHost"},
     b"<H1>Access Denied</H1>Reference #18.1 https://errors.edgesuite.net/18.1", "Akamai"),
]


@pytest.mark.parametrize("name,status,headers,body,vendor", CASES, ids=[c[0] for c in CASES])
def test_a_challenge_page_names_its_vendor(name, status, headers, body, vendor):
    assert challenge_vendor(status, headers, body) == vendor


@pytest.mark.parametrize("status,headers,body", [
    (403, {}, b"Forbidden"),  # a plain refusal is an HTTP error, not a wall
    (403, {"cf-ray": "1-AMS", "server": "cloudflare"}, b"<h1>403 Forbidden</h1>"),  # served by, not challenged
    (200, {"cf-mitigated": "challenge"}, b"<title>Just a moment...</title>"),  # a 200 is read as it is
    (404, {"x-datadome": "protected"}, b""),
])
def test_other_responses_are_not_walls(status, headers, body):
    assert challenge_vendor(status, headers, body) is None
