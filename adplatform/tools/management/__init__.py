"""Management commands of the developer tools."""
