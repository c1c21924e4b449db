"""Logs without the secrets that some addresses carry.

Invitation links, email confirmation links and password reset links hold one-time tokens in
their paths. The database keeps only hashes of invitation tokens; the log must not keep more.
"""

import logging
import re

from gunicorn.glogging import Logger

SECRET_PATHS = re.compile(
    r"(/invitations/|/accounts/confirm-email/|/accounts/password/reset/key/)[^/?\s\"]+")


def redact(text: str) -> str:
    return SECRET_PATHS.sub(r"\1[redacted]", text)


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "{raw_uri}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        atoms["{RAW_URI}e"] = redact(str(atoms.get("{RAW_URI}e", "")))
        atoms["{PATH_INFO}e"] = redact(str(atoms.get("{PATH_INFO}e", "")))
        return atoms


class RedactingFilter(logging.Filter):
    """For Django's own loggers, which name the path of a failed request."""

    def filter(self, record):
        record.msg = redact(str(record.msg))
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True
