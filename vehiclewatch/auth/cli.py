"""Account commands."""

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from .. import audit
from ..extensions import db
from .models import Role, Unit
from .passwords import WeakPassword
from .services import UsernameTaken, create_user


@click.command("create-user")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Display name.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--unit", "unit_code", required=True, help="Unit code the account belongs to.")
@click.option("--reveal-contact", is_flag=True, help="May reveal real-name reporters' contacts.")
@click.password_option()
@with_appcontext
def create_user_command(username, display_name, role, unit_code, reveal_contact, password):
    """Create a staff account."""
    unit = db.session.execute(select(Unit).where(Unit.code == unit_code)).scalar_one_or_none()
    if unit is None:
        raise click.ClickException(f"unknown unit code: {unit_code}")
    try:
        user = create_user(
            username, display_name, role, unit, password, reveal_contact, actor=audit.SYSTEM
        )
    except UsernameTaken:
        raise click.ClickException(f"username already taken: {username}") from None
    except WeakPassword as exc:
        raise click.ClickException(f"password refused: {exc}") from None
    click.echo(f"created {user.username} ({user.role}) in {unit.name}")
    if not user.active:
        click.echo("it stays disabled until a leader of its unit confirms it (账号变更确认)")
