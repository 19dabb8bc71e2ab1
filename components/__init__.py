"""Reusable ComponentResources of the platform; none of them reads stack config."""
