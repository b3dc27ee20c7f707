"""The PostgreSQL backend (``ENGINE = "adplatform.postgresql"``): see :mod:`adplatform.postgresql.base`."""
