"""Community and networking: events with registrations, waiting lists and calendar feeds;
discussion spaces for difficult conversations (pseudonyms, Chatham House rule, moderation);
the mailing list and its weekly digest. Ideas, briefings, consultations, stories and funding
come later."""
