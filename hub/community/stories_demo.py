"""Demo content for success stories and funding opportunities."""


def load() -> int:
    return 0
