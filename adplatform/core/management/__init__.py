"""Management commands of the platform library."""
