"""Spot-check commands: re-run a revealed draw to prove nobody steered it."""

from datetime import date, datetime

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..timeutil import local_zone
from .models import SpotCheckDraw
from .services import SeedNotRevealed, revealed_seed, verify_draw

spot_check_cli = AppGroup("spot-check", help="Spot checks (随机抽查).")


@spot_check_cli.command("verify")
@click.argument("round_key", metavar="ROUND")
def verify_command(round_key: str) -> None:
    """Re-run every draw of ROUND (its first day, YYYY-MM-DD) from the revealed seed, the
    public value and the recorded candidate list, and compare with what was handed out."""
    try:
        start = date.fromisoformat(round_key)
    except ValueError:
        raise click.ClickException("ROUND is the round's first day, YYYY-MM-DD") from None
    draws = (
        db.session.execute(
            select(SpotCheckDraw)
            .where(SpotCheckDraw.round_start == start)
            .order_by(SpotCheckDraw.id)
        )
        .scalars()
        .all()
    )
    if not draws:
        raise click.ClickException(f"no draw for the round starting {round_key}")
    today = datetime.now(local_zone()).date()
    failed = False
    for draw in draws:
        status = f"superseded: {draw.redraw_reason}" if draw.superseded_at else "current"
        try:
            problems = verify_draw(draw, today)
        except SeedNotRevealed:
            raise click.ClickException(
                f"the seed is revealed after the round ends ({draw.round_end})"
            ) from None
        click.echo(f"draw {draw.id} ({status}) seed {revealed_seed(draw, today)}")
        if draw.public_source:
            click.echo(f"  public value of {draw.public_source}: {draw.public_value or '-'}")
        if draw.sealed:
            click.echo("  sealed: the public value was never entered, so no lists were made")
            continue
        for problem in problems:
            click.echo(f"  MISMATCH: {problem}")
        if problems:
            failed = True
        else:
            click.echo(f"  verified: {len(draw.items)} cars, lists and teams re-derived exactly")
    if failed:
        raise SystemExit(1)
