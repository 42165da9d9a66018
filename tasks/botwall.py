"""Anti-bot challenge pages: a 401/403/429/503 that is a vendor's wall, not a broken page.

wirecopy does not try to get past them (it never pretends to be a browser); it names the vendor,
so `wirecopy status` can say which hosts block it and the failure backs off like any other.
"""
from __future__ import annotations

CHALLENGE_STATUSES = frozenset({401, 403, 429, 503})
_SNIFF = 256 * 1024

# (vendor, header names or name=value pairs that name it, markers of its challenge markup)
_VENDORS: tuple[tuple[str, tuple[str, ...], tuple[bytes, ...]], ...] = (
    ("Cloudflare", ("cf-mitigated=challenge",),
     (b"<title>just a moment...</title>", b"/cdn-cgi/challenge-platform/", b"cf-chl-", b"cf_chl_opt",
      b"attention required! | cloudflare", b"cf-browser-verification")),
    ("DataDome", ("x-datadome", "x-dd-b", "x-datadome-cid"),
     (b"captcha-delivery.com", b"datadome")),
    ("PerimeterX", ("x-px-blocked",),
     (b"px-captcha", b"captcha.px-cdn.net", b"_pxappid", b"perimeterx", b"human security")),
    ("Imperva", ("x-iinfo", "x-cdn=incapsula"),
     (b"_incapsula_resource", b"incapsula incident id", b"imperva")),
    ("Akamai", ("akamai-grn",),
     (b"errors.edgesuite.net", b"akamai", b"bm-verify", b"_abck")),
)
# Headers that only say who serves the site: a wall if the body is a challenge of that vendor.
_SERVED_BY = {"cf-ray": "Cloudflare", "server=cloudflare": "Cloudflare", "server=akamaighost": "Akamai",
              "x-akamai-transformed": "Akamai"}


def _header_hits(headers: dict[str, str], names: tuple[str, ...] | list[str]) -> bool:
    for name in names:
        key, _, value = name.partition("=")
        got = headers.get(key)
        if got is not None and (not value or got.strip().lower().startswith(value)):
            return True
    return False


def challenge_vendor(status: int, headers: dict[str, str], body: bytes) -> str | None:
    """The vendor whose challenge this response is, or None; `headers` lower-cased as HttpResult keeps them."""
    if status not in CHALLENGE_STATUSES:
        return None
    text = body[:_SNIFF].lower()
    for vendor, names, markers in _VENDORS:
        if _header_hits(headers, names):
            return vendor
        if any(marker in text for marker in markers):
            return vendor
    served = {v for k, v in _SERVED_BY.items() if _header_hits(headers, [k])}
    if served and (b"captcha" in text or b"challenge" in text):
        return sorted(served)[0]
    return None
