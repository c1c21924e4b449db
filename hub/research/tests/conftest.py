"""Fixtures shared by the research tests: a running assessment round, for passages cited as
evidence."""

from hub.assessment.tests.test_flow import facilitator, initiative, org, round_  # noqa: F401
