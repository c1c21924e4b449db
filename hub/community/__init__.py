"""Community and networking: events with registrations, waiting lists and calendar feeds;
discussion spaces for difficult conversations (pseudonyms, Chatham House rule, moderation);
news and partner briefings; the mailing list and its weekly digest. Ideas, consultations,
stories and funding come later."""
