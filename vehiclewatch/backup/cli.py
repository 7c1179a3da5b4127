"""The backup and restore commands."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..auditcheck import audit_cli
from .services import BackupError, backup, restore


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--unencrypted",
    is_flag=True,
    help="Write the archive unencrypted (small installs, tests); the manifest says so.",
)
@with_appcontext
def backup_command(file: Path, unencrypted: bool) -> None:
    """Write one archive of the database, every photo and a manifest to FILE while the
    service runs, encrypted to VEHICLEWATCH_BACKUP_RECIPIENT."""
    try:
        manifest = backup(file, encrypted=not unencrypted)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    how = "encrypted" if manifest["encrypted"] else "UNENCRYPTED"
    click.echo(
        f"backup written to {file} ({how}): {manifest['tables'].get('report', 0)} reports, "
        f"{len(manifest['photos'])} photos, audit log to entry {manifest['audit_head']['seq']}"
    )


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The age private key file the archive was encrypted to (read for this run only).",
)
@click.pass_context
@with_appcontext
def restore_command(ctx: click.Context, file: Path, key: Path | None) -> None:
    """Restore FILE into this empty instance, check it, migrate it to this code's schema,
    and verify the audit log."""
    try:
        manifest = restore(file, key)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"restored the backup of {manifest['created_at']}: "
        f"{manifest['tables'].get('report', 0)} reports, {len(manifest['photos'])} photos "
        "(every checksum matched, every configured key fits)"
    )
    ctx.invoke(audit_cli.get_command(ctx, "verify"))
