"""Least privilege on PostgreSQL: the application's role reads and writes, but may only
append to the audit log; the owner role that runs the migrations keeps the rest."""

from sqlalchemy import Engine, text

# Tables the application role may not use freely; every other table gets plain DML.
RESTRICTED = {
    "audit_entry": "SELECT, INSERT",
    "audit_head": "SELECT, UPDATE",
    "alembic_version": "SELECT",
}
READ_WRITE = "SELECT, INSERT, UPDATE, DELETE"


def grant_application_role(owner: Engine, role: str) -> None:
    """As the owner, give `role` what the application needs on every table of the schema,
    and nothing more: no TRUNCATE, no TRIGGER, no UPDATE or DELETE on the audit log."""
    quote = owner.dialect.identifier_preparer.quote
    with owner.begin() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"), {"schema": schema}
        ).scalars()
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {quote(schema)} TO {quote(role)}")
        for table in tables:
            qualified = f"{quote(schema)}.{quote(table)}"
            conn.exec_driver_sql(f"REVOKE ALL ON {qualified} FROM {quote(role)}")
            rights = RESTRICTED.get(table, READ_WRITE)
            conn.exec_driver_sql(f"GRANT {rights} ON {qualified} TO {quote(role)}")
        conn.exec_driver_sql(
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quote(schema)} TO {quote(role)}"
        )


def can_rewrite_audit_log(app_engine: Engine) -> bool:
    """Whether the application's own role could change or remove audit entries: it owns
    the table (or is a superuser, or a member of the owner) or holds a right it should not."""
    with app_engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT pg_has_role(current_user, c.relowner, 'USAGE') "
                "OR has_table_privilege(c.oid, 'UPDATE, DELETE, TRUNCATE, TRIGGER') "
                "FROM pg_class c WHERE c.oid = 'audit_entry'::regclass"
            )
        ).scalar_one()


def application_role(app_engine: Engine) -> str:
    with app_engine.connect() as conn:
        return conn.execute(text("SELECT current_user")).scalar_one()
