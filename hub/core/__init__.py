"""What every capability shares: the audit trail, the site's shell pages, mail sending."""
