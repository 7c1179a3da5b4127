"""Report maintenance commands."""

import click
from flask.cli import AppGroup

from .. import audit
from .photostore import orphan_photos, remove_orphan_photos

photos_cli = AppGroup("photos", help="Report photo files.")


@photos_cli.command("sweep")
@click.option("--delete", is_flag=True, help="Remove the orphaned files (default: only list).")
def sweep_command(delete: bool) -> None:
    """Find photo files that no report names (left by a failed submission)."""
    names = orphan_photos()
    for name in names:
        click.echo(name)
    if delete and names:
        click.echo(f"removed {remove_orphan_photos(names, actor=audit.SYSTEM)} orphaned files")
    else:
        click.echo(f"{len(names)} orphaned files")
