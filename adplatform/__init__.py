"""The platform's own package: the Django project, the platform library, accounts and the tools.

See LAYOUT.md next to this file for what lives where.
"""
