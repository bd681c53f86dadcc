"""Pure gateway rules: roles and permissions, credentials, customer identifiers, quotas, audit purposes."""
