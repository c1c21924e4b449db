"""Demo content for consultations and concerns."""


def load() -> int:
    return 0
