"""HTTPie auth plugin for lanyard: cached, auto-refreshed OAuth tokens.

    http --auth-type=lanyard --auth=PROFILE GET https://api.example/...
    http --auth-type=lanyard --auth=PROFILE:query GET https://api.example/...

The plugin runs ``lanyard token PROFILE --format json --url URL`` (the binary
named by LANYARD_BIN, else ``lanyard`` on PATH), which answers only when the
profile's ``match`` serves the request URL, and sends the token as
``Authorization: Bearer TOKEN``, or with ``:query`` as an ``access_token``
query parameter (Whisk accepts that; RFC 6750 section 2.3). If the API
answers 401, the plugin asks lanyard once more with ``--force-refresh`` and
resends the request, when its body can be sent again.

Nothing but the Python standard library and HTTPie itself is needed. The
token is never written anywhere: with ``--session`` HTTPie stores only the
profile name.
"""

import json
import os
import shutil
import subprocess
from urllib.parse import quote, urlsplit, urlunsplit

from httpie.plugins import AuthPlugin
from requests.auth import AuthBase
from requests.cookies import extract_cookies_to_jar

__version__ = "1.0.0"

MODES = ("header", "query")


class LanyardError(Exception):
    """A token could not be had; the message says what to do.

    HTTPie prints exceptions raised while it prepares or sends a request as
    ``http: error: LanyardError: MESSAGE`` and exits 1, without a traceback
    (unless --traceback or --debug is given).
    """


def parse_auth(raw):
    """Split the --auth value PROFILE[:MODE] into (profile, mode)."""
    raw = (raw or "").strip()
    profile, sep, mode = raw.rpartition(":")
    if not sep:
        profile, mode = raw, "header"
    if mode not in MODES:
        raise LanyardError(
            f"--auth={raw!r}: use --auth=PROFILE or --auth=PROFILE:query"
        )
    if not profile:
        raise LanyardError("--auth is empty: use --auth=PROFILE (a lanyard profile name)")
    if profile.startswith("-"):
        raise LanyardError(f"--auth={raw!r}: profile names cannot start with '-'")
    return profile, mode


def lanyard_binary():
    """The lanyard executable: $LANYARD_BIN, else lanyard on PATH."""
    exe = os.environ.get("LANYARD_BIN") or shutil.which("lanyard")
    if not exe:
        raise LanyardError(
            "lanyard not found on PATH; install it (make install) or set LANYARD_BIN"
        )
    return exe


def fetch_token(profile, url, force_refresh=False):
    """Run lanyard token PROFILE --format json --url URL and return its JSON
    object. lanyard answers only when the profile's match serves URL, so the
    token never goes to another host or over plain http.

    stdin is /dev/null: HTTPie's stdin may be the request body, and a login
    that needs a person never starts from here (lanyard then fails with the
    login command to run instead).
    """
    exe = lanyard_binary()
    args = [exe, "token", profile, "--format", "json", "--url", url]
    if force_refresh:
        args.append("--force-refresh")
    try:
        proc = subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            check=False,
        )
    except OSError as e:
        raise LanyardError(
            f"could not run {exe}: {e.strerror or e}; check LANYARD_BIN or PATH"
        ) from None
    if proc.returncode != 0:
        raise LanyardError(_message(proc.stderr, proc.returncode, profile))
    try:
        tok = json.loads(proc.stdout)
    except ValueError:
        # Never quote stdout: it may hold a token.
        raise LanyardError(
            f"{exe} token {profile} --format json printed no JSON; is {exe} lanyard?"
        ) from None
    if not isinstance(tok, dict) or not tok.get("access_token"):
        raise LanyardError(
            f"{exe} token {profile} --format json printed no access_token; is {exe} lanyard?"
        )
    return tok


def _message(stderr, code, profile):
    """lanyard's own error text, without its "lanyard: " prefixes."""
    lines = []
    for line in stderr.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line.startswith("lanyard: "):
            line = line[len("lanyard: "):]
        if line:
            lines.append(line)
    if not lines:
        return f"lanyard token {profile} failed with exit status {code}"
    return "\n".join(lines)


def scheme(tok):
    """The Authorization scheme: Bearer, whatever case the server used."""
    typ = str(tok.get("token_type") or "")
    if typ == "" or typ.lower() == "bearer":
        # Whiplash answers token_type "bearer"; RFC 6750 spells it Bearer.
        return "Bearer"
    return typ


def with_query_token(url, token):
    """url with access_token=TOKEN appended to its query (RFC 6750 2.3)."""
    parts = urlsplit(url)
    param = "access_token=" + quote(token, safe="")
    query = parts.query + "&" + param if parts.query else param
    return urlunsplit(parts._replace(query=query))


class LanyardAuth(AuthBase):
    """requests auth that asks lanyard for a token when the request is
    prepared, and once more with --force-refresh after a 401."""

    def __init__(self, raw_auth):
        self.raw_auth = raw_auth
        self.profile = self.mode = None
        self._url = None  # the URL before the token was added (query mode)
        self._sent = None  # the header value or URL this auth produced
        self._retried = False

    def __call__(self, r):
        # --auth is checked here, not when HTTPie parses its arguments: an
        # exception there would print a traceback.
        self.profile, self.mode = parse_auth(self.raw_auth)
        self._url = r.url
        self._apply(r, fetch_token(self.profile, self._url))
        r.register_hook("response", self.handle_401)
        return r

    def _apply(self, r, tok):
        if self.mode == "query":
            r.url = with_query_token(self._url, tok["access_token"])
            self._sent = r.url
        else:
            r.headers["Authorization"] = scheme(tok) + " " + tok["access_token"]
            self._sent = r.headers["Authorization"]

    def _ours(self, req):
        if self.mode == "query":
            return req.url == self._sent
        return req.headers.get("Authorization") == self._sent

    def handle_401(self, r, **kwargs):
        """Resend once with a forced refresh when the API rejected the token
        (the cached token may have been revoked before its expiry)."""
        if r.status_code != 401 or self._retried or not self._ours(r.request):
            return r
        body = r.request.body
        if body is not None and not isinstance(body, (bytes, str)):
            return r  # a stream (file upload, stdin) cannot be sent twice
        self._retried = True
        tok = fetch_token(self.profile, self._url, force_refresh=True)
        # As requests' HTTPDigestAuth does: drain and release the connection,
        # then send a copy with the new token.
        r.content
        r.close()
        prep = r.request.copy()
        extract_cookies_to_jar(prep._cookies, r.request, r.raw)
        prep.prepare_cookies(prep._cookies)
        self._apply(prep, tok)
        retry = r.connection.send(prep, **kwargs)
        retry.history.append(r)
        retry.request = prep
        return retry


class LanyardAuthPlugin(AuthPlugin):
    """--auth-type=lanyard --auth=PROFILE[:query]"""

    name = "lanyard"
    auth_type = "lanyard"
    description = (
        "OAuth token from a lanyard profile: --auth=PROFILE (Authorization: Bearer) "
        "or --auth=PROFILE:query (access_token query parameter)"
    )
    auth_require = True
    auth_parse = False
    prompt_password = False
    netrc_parse = False

    def get_auth(self, username=None, password=None):
        return LanyardAuth(self.raw_auth)
