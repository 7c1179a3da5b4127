"""Official vehicles, their stickers, and the fleet admins' pages."""
