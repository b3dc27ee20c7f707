"""rotate_field_encryption."""
