"""Logs without the secrets that some addresses carry.

Invitation links, email confirmation links, password reset links, private assessment links and
the resume addresses of answers given through them hold secrets in their paths. The database
keeps only hashes of those tokens; the log must not keep more.
"""

import logging
import re

from gunicorn.glogging import Logger

SECRET_PATHS = re.compile(
    r"(/invitations/|/accounts/confirm-email/|/accounts/password/reset/key/"
    r"|/assessment/r/|/assessment/a/)[^/?\s\"]+")


def redact(text: str) -> str:
    return SECRET_PATHS.sub(r"\1[redacted]", text)


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # Every atom that can hold an address: the request line, the path, the referring page
        # (a stylesheet fetched from an invitation page names that page) and environ copies.
        for key, value in list(atoms.items()):
            if isinstance(value, str) and "/" in value:
                atoms[key] = redact(value)
        return atoms


class RedactingFilter(logging.Filter):
    """For Django's own loggers, which name the path of a failed request."""

    def filter(self, record):
        record.msg = redact(str(record.msg))
        if isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v
                           for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True
