"""TaskDash: the hub between annotation task services and the people who do the work."""

__version__ = "0.1.0"
