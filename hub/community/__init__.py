"""Community and networking: events with registrations, waiting lists and calendar feeds;
discussion spaces for difficult conversations (pseudonyms, Chatham House rule, moderation);
news and partner briefings; the ideas board; consultations ("you said, we did") and concerns
raised with organisations; success stories and funding opportunities; the mailing list and its
weekly digest."""
