"""Report maintenance commands."""

from datetime import timedelta

import click
from flask.cli import AppGroup

from .. import audit
from . import keys, retention
from .photostore import orphan_photos, remove_orphan_photos

photos_cli = AppGroup("photos", help="Report photo files.")


@photos_cli.command("sweep")
@click.option("--delete", is_flag=True, help="Remove the orphaned files (default: only list).")
@click.option(
    "--older-than",
    "minutes",
    default=10,
    show_default=True,
    type=click.IntRange(min=0),
    help="Leave photos younger than this many minutes (a report may be being filed).",
)
def sweep_command(delete: bool, minutes: int) -> None:
    """Find photos that no report names (left by a failed submission), in the photo
    directory or the S3-compatible store."""
    names = orphan_photos(timedelta(minutes=minutes))
    for name in names:
        click.echo(name)
    if delete and names:
        click.echo(f"removed {remove_orphan_photos(names, actor=audit.SYSTEM)} orphaned files")
    else:
        click.echo(f"{len(names)} orphaned files")


def check_contact_keys_or_exit() -> None:
    """The contact-key check for commands: a clear refusal instead of a traceback."""
    try:
        keys.check_contact_keys()
    except keys.ContactKeysMissing as exc:
        raise click.ClickException(f"refusing to start: {exc}") from None


keys_cli = AppGroup("keys", help="Contact and receipt keys: rotation and checks.")


@keys_cli.command("rotate-contacts")
def rotate_contacts_command() -> None:
    """Re-encrypt every stored contact and sealed seed under the newest contact key (in
    committed batches; run it again after an interruption), so old keys can be removed."""
    check_contact_keys_or_exit()
    done = keys.rotate_contacts(
        actor=audit.SYSTEM, progress=lambda t, c, n: click.echo(f"{t}.{c}: {n} re-encrypted…")
    )
    for target, count in done.items():
        click.echo(f"{target}: {count} re-encrypted")
    click.echo("every value is under the newest key: the older contact keys may be removed")


@keys_cli.command("check")
def check_command() -> None:
    """Check that VEHICLEWATCH_CONTACT_KEYS still decrypts what is stored."""
    check_contact_keys_or_exit()
    click.echo("contact keys: stored values decrypt")


@keys_cli.command("receipt-status")
def receipt_status_command() -> None:
    """How many reports still depend on each receipt key."""
    for use in keys.receipt_status():
        where = (
            "not configured: these receipts can no longer be looked up"
            if use.position is None
            else ("newest" if use.position == 1 else f"key {use.position} (old)")
        )
        click.echo(f"{use.key_id}  {where}: {use.reports} reports")


retention_cli = AppGroup("retention", help="Deleting reporters' data past its keeping period.")


@retention_cli.command("apply")
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
def apply_command(dry_run: bool) -> None:
    """Delete contacts and photos whose keeping period has run out (README "Retention")."""
    found = retention.apply(dry_run=dry_run, actor=audit.SYSTEM)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} contacts of {len(found.contacts)} reports: {found.contacts}")
    click.echo(f"{verb} photos of {len(found.photos)} reports: {found.photos}")
