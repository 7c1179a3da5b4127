"""Account and API token commands."""

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from .. import audit
from ..extensions import db
from .models import Role, Unit
from .passwords import WeakPassword
from .services import UsernameTaken, create_user
from .tokens import (
    SCOPES,
    ApiToken,
    DuplicateTokenName,
    create_token,
    revoke_token,
    tokens,
)


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


api_token_cli = AppGroup("api-token", help="Integration API tokens.")


@api_token_cli.command("create")
@click.argument("name")
@click.option("--unit", "unit_code", required=True, help="The unit whose subtree it serves.")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(SCOPES))
def create_token_command(name, unit_code, scopes):
    """Issue a token and print it, once (only a keyed hash is kept)."""
    unit = db.session.execute(select(Unit).where(Unit.code == unit_code)).scalar_one_or_none()
    if unit is None:
        raise click.ClickException(f"unknown unit code: {unit_code}")
    try:
        token, clear = create_token(name, unit, list(scopes), actor=audit.SYSTEM)
    except DuplicateTokenName:
        raise click.ClickException(f"a token is already named {name!r}") from None
    click.echo(f"token {token.name} for {unit.name}, scopes: {' '.join(token.scopes)}")
    click.echo("shown once; store it in the fleet platform now:")
    click.echo(clear)
    if token.state == "pending":
        click.echo(
            "it reads case content, so it awaits a leader's confirmation: refused until a "
            "leader of the unit's jurisdiction confirms it (账号变更确认)"
        )


@api_token_cli.command("list")
def list_tokens_command():
    """Every token: name, unit, scopes, last used, state (active, pending or revoked)."""
    for token in tokens():
        state = {
            "confirmed": "active",
            "pending": "pending a leader's confirmation",
            "revoked": f"revoked {token.revoked_at}",
        }[token.state]
        click.echo(
            f"{token.name}\t{token.unit.code}\t{','.join(token.scopes)}\t"
            f"last used {token.last_used_at or 'never'}\t{state}"
        )


@api_token_cli.command("revoke")
@click.argument("name")
def revoke_token_command(name):
    """Revoke a token: the next call with it is refused."""
    token = db.session.execute(select(ApiToken).where(ApiToken.name == name)).scalar_one_or_none()
    if token is None:
        raise click.ClickException(f"no token named {name!r}")
    revoke_token(token, actor=audit.SYSTEM)
    click.echo(f"revoked {name}")
