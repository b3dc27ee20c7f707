"""The PostgreSQL backend (``ENGINE = "adplatform.core.postgresql"``): see :mod:`adplatform.core.postgresql.base`."""
