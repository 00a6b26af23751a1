"""The onboard/offboard workflows' steps (DESIGN §4): each observes, plans and applies."""
