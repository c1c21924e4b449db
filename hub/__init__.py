"""The Police–Community Engagement Hub: one Django project, one app per capability."""
