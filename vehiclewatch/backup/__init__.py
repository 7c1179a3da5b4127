"""Backup and restore: one archive of the database, the photos and a manifest."""
