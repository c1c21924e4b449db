"""Community and networking. Part 1: events, their registrations and waiting lists, and each
member's calendar feed. The rest of the community area (spaces, ideas, briefings) comes later."""
