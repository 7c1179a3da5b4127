"""Accounts, roles, organisational units, scopes and login."""
