"""The front page and the staff workbench."""
