"""``fairslot bench``: measuring instruments for the platform under release-time load."""
