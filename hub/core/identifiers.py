"""Finding contact details in free text, so features that must not hold them can refuse them.

Phone numbers are found with ``phonenumbers`` (a port of Google's libphonenumber) at its
"possible" leniency, so invented and reserved numbers count too, and kept only when they have
at least nine digits, so years and reference numbers do not.
"""

import re

import phonenumbers

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
MIN_PHONE_DIGITS = 9


def contact_details(text: str, region: str = "GB") -> list[tuple[str, str]]:
    """Each email address and phone number in ``text``, as ``(kind, text found)``."""
    if not text:
        return []
    found = [("email address", match.group()) for match in EMAIL.finditer(text)]
    matcher = phonenumbers.PhoneNumberMatcher(text, region,
                                              leniency=phonenumbers.Leniency.POSSIBLE)
    for match in matcher:
        if sum(ch.isdigit() for ch in match.raw_string) >= MIN_PHONE_DIGITS:
            found.append(("phone number", match.raw_string))
    return found
