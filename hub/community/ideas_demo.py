"""Demo content for the ideas board."""


def load() -> int:
    return 0
