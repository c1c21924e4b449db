"""The research workspace: studies, pseudonymised transcripts, codes and codings."""
