"""Security headers and caching rules applied to every response."""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

# No inline script or style anywhere: the pages have no JavaScript, and the only styles
# are app.css and the presentation attributes of the SVG charts (which CSP allows).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Powerful browser features the app never uses; only names Chromium recognises, so the
# header itself puts no warning on the console.
DENIED_FEATURES = (
    "accelerometer",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "hid",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Survey addresses carry the respondent's link (/s/<token>): no page may pass its
    # address on, not even to the app's own stylesheet.
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": ", ".join(f"{feature}=()" for feature in DENIED_FEATURES),
}

# Only sent in production, where the app is served over HTTPS: a browser that saw it
# over a development server's plain HTTP would refuse that host's HTTP for a year.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"

NO_STORE = "private, no-store"


# Fetch metadata a browser sends with every request (``Sec-Fetch-Site``): a form posted
# from another site, a subdomain included, is refused whatever it carries.
FOREIGN_SITES = frozenset({"cross-site", "same-site"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask) -> None:
    """Attach the request and response hooks to ``app``."""
    app.before_request(refuse_posts_from_other_sites)
    app.after_request(add_security_headers)
    app.session_interface = SignedCookieSessions()


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed session cookie, with its serializer made once per secret key.

    Flask builds the serializer again for every request (reading the secret keys and
    setting up the signer), about 1% of a survey request's CPU. The cookie, its
    signature and the key rotation (SECRET_KEY_FALLBACKS) are exactly Flask's: only the
    serializer object is kept while the keys stay the same.
    """

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        try:
            return self._serializers[keys]
        except KeyError:
            serializer = super().get_signing_serializer(app)
            # A rotated key drops the old entries; there is only ever one app's keys here.
            self._serializers = {keys: serializer}
            return serializer


def refuse_posts_from_other_sites() -> None:
    """Defence in depth beside the CSRF token: browsers send no Referer (our pages say
    ``no-referrer``, so Flask-WTF's HTTPS Referer check is off), but every current
    browser says in ``Sec-Fetch-Site`` where a request came from. A request that changes
    something and says it came from another site is refused as a form that could not be
    accepted; clients that send no such header (older browsers, scripts) are left to the
    token."""
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() in FOREIGN_SITES:
        from flask_wtf.csrf import CSRFError

        raise CSRFError("The form was sent from another site.")


def add_security_headers(response: Response) -> Response:
    """Set the security headers and the caching rule on ``response``."""
    for name, value in HEADERS.items():
        response.headers[name] = value
    if current_app.config.get("ENV_NAME") == "production":
        response.headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    if not _may_be_cached(response):
        # Survey pages show a respondent's answers; every other page is for a signed-in
        # user, a download, the API or the sign-in form. None belongs in any cache.
        response.headers["Cache-Control"] = NO_STORE
        response.headers.pop("Expires", None)
    return response


def _may_be_cached(response: Response) -> bool:
    """Static files keep their normal caching; nothing else is stored anywhere.

    A static file's error is an HTML page with the signed-in user's address in its
    header, so only a file actually served (or confirmed unchanged) counts.
    """
    return request.endpoint == "static" and response.status_code in (200, 206, 304)
