"""Cursor pagination: lists go by id, and the cursor is the last id of the page before."""

from ..extensions import db


def page(query, id_column, args: dict) -> dict:
    """One page of `query` after args["cursor"]; `next_cursor` is None on the last page."""
    if args.get("cursor"):
        query = query.where(id_column > int(args["cursor"]))
    rows = list(db.session.execute(query.order_by(id_column).limit(args["limit"] + 1)).scalars())
    more = len(rows) > args["limit"]
    rows = rows[: args["limit"]]
    return {"items": rows, "next_cursor": str(rows[-1].id) if more else None}
