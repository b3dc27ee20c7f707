"""{% load ui %}."""
