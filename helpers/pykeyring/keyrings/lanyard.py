"""keyrings.lanyard: a keyring backend that answers pip and twine with
lanyard's OAuth tokens.

pip (``--keyring-provider import`` or ``subprocess``) and twine ask the
keyring library for an index's credentials by URL. This backend asks
``lanyard pip-credential SERVICE`` and answers for the index URLs a lanyard
profile's ``match`` serves: the profile's ``pip_username`` (default
``oauth2``) and a fresh token. For every other service it answers nothing,
so the next backend (Secret Service, macOS Keychain, ...) is asked.

Standard library and keyring only. ``lanyard setup pip --python PYTHON``
installs it into that interpreter's user site.
"""

import json
import os
import shutil
import subprocess

from keyring.backend import KeyringBackend
from keyring.credentials import SimpleCredential
from keyring.errors import KeyringError

# Above the desktop backends (Secret Service 5, Keychain 5, Windows 5) so it
# is asked first, and below keyring's ChainerBackend (10), which then runs
# them all in turn: services this backend does not serve reach the others.
PRIORITY = 9.5

# A token request waits at most this long (lanyard bounds its own waits too).
TIMEOUT = 120

# Written by lanyard setup pip: the lanyard binary found at setup time, used
# when lanyard is not on PATH (pip run from an IDE, a cron job).
LANYARD = ""


class LanyardError(KeyringError):
    """lanyard could not hand out a token for a service it serves (a login is
    needed, the profiles file is wrong); the message says what to run."""


def _lanyard():
    return shutil.which("lanyard") or (LANYARD if LANYARD and os.access(LANYARD, os.X_OK) else None)


def _ask(service):
    """The credential lanyard holds for service, as a dict, or None."""
    if not service or not isinstance(service, str):
        return None
    exe = _lanyard()
    if exe is None:
        return None
    try:
        res = subprocess.run(
            [exe, "pip-credential", service],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise LanyardError("lanyard pip-credential failed: %s" % e) from None
    if res.returncode != 0:
        msg = res.stderr.decode("utf-8", "replace").strip()
        # Control characters never reach the terminal (server text may be
        # in the message).
        msg = "".join(c for c in msg if c == "\n" or c >= " ")
        raise LanyardError(msg or "lanyard pip-credential exited with %d" % res.returncode)
    out = res.stdout.strip()
    if not out:
        return None
    try:
        cred = json.loads(out)
    except ValueError:
        raise LanyardError("lanyard pip-credential printed something that is not JSON") from None
    if not cred.get("password"):
        return None
    return cred


class LanyardKeyring(KeyringBackend):
    """lanyard's tokens for the index URLs its profiles match."""

    priority = PRIORITY

    def get_credential(self, service, username):
        cred = _ask(service)
        if cred is None:
            return None
        return SimpleCredential(cred.get("username") or "oauth2", cred["password"])

    def get_password(self, service, username):
        # The username comes from the index URL (pip's subprocess provider
        # needs https://USER@host/...); the index checks the token.
        cred = _ask(service)
        return None if cred is None else cred["password"]

    def set_password(self, service, username, password):
        # NotImplementedError makes keyring's ChainerBackend try the next
        # backend: what pip offers to save is not lanyard's to keep.
        raise NotImplementedError("lanyard keeps its own tokens: lanyard login / lanyard logout")

    def delete_password(self, service, username):
        raise NotImplementedError("lanyard keeps its own tokens: lanyard logout")
