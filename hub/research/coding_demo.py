"""Demo content for the research workspace's analysis: codebook, codings and memos on the
demo study (``hub.research.demo.DEMO_STUDY``)."""


def load() -> int:
    return 0
