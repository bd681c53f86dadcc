"""The gateway's consumers: customer scopes (branch, portfolio) from profile events, and their erasure."""
