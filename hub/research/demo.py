"""Demo content for the research workspace: a study with its team, participants and sources."""

DEMO_STUDY = "Trust and engagement in Riverside (demo)"


def load() -> int:
    return 0
