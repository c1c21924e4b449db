"""People, organisations and memberships: who is in the hub, and how they joined."""
