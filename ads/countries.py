"""ISO 3166-1 alpha-2 country codes accepted in campaign targeting: the codes of the platform's one country
table (``adplatform.core.countries``, which also names them)."""

from adplatform.core.countries import COUNTRY_NAMES

COUNTRY_CODES = frozenset(COUNTRY_NAMES)
