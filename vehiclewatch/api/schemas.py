"""What the API reads and writes (marshmallow schemas; the OpenAPI document is made from them)."""

from marshmallow import Schema, fields, validate

from ..fleet.models import Category, Status
from ..inputs import strip_controls

MAX_BULK = 1000
# A fleet platform's key: letters, digits, "_", "-", "." (not first: no "." or ".." segment).
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$"
EXTERNAL_ID_PARAMETER = {
    "in": "path",
    "name": "external_id",
    "required": True,
    "schema": {"type": "string", "pattern": EXTERNAL_ID_PATTERN, "maxLength": 64},
}
IDEMPOTENCY_PATTERN = r"^[A-Za-z0-9_.:-]{1,80}$"
IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": True,
    "description": "a key of the caller's choosing; a repeat returns the first answer",
    "schema": {"type": "string", "pattern": IDEMPOTENCY_PATTERN},
}


class Text(fields.String):
    """Text as the pages take it: control characters removed, spaces trimmed."""

    def _deserialize(self, value, attr, data, **kwargs):
        return strip_controls(super()._deserialize(value, attr, data, **kwargs)).strip()


def text(max_length: int, required: bool = False, **kwargs) -> Text:
    minimum = 1 if required else 0
    if required:
        kwargs["required"] = True
    else:
        kwargs.setdefault("load_default", "")
    return Text(validate=validate.Length(minimum, max_length), **kwargs)


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String()
    status = fields.Integer()
    code = fields.String(metadata={"description": "stable, for programs"})
    title = fields.String(metadata={"description": "the message the pages show"})
    errors = fields.List(fields.Dict(), metadata={"description": "the fields or items at fault"})


class ListArgs(Schema):
    cursor = fields.String(validate=validate.Regexp(r"^[0-9]{1,10}$"))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class VehicleListArgs(ListArgs):
    unit = fields.String(validate=validate.Length(1, 40), metadata={"description": "unit code"})
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    plate = fields.String(validate=validate.Length(1, 16))


class VehicleIn(Schema):
    plate = text(16, required=True)
    unit = text(40, required=True, metadata={"description": "the unit's code"})
    category = fields.String(required=True, validate=validate.OneOf([c.value for c in Category]))
    brand_model = text(80)
    colour = text(40)
    status = fields.String(
        load_default=Status.IN_USE.value,
        validate=validate.OneOf([Status.IN_USE.value, Status.REPAIR.value]),
        metadata={"description": "retire a car with POST …/retire"},
    )
    publicly_marked = fields.Boolean(load_default=True)


class VehicleItem(VehicleIn):
    external_id = fields.String(required=True, validate=validate.Regexp(EXTERNAL_ID_PATTERN))


class VehicleBulk(Schema):
    items = fields.List(
        fields.Nested(VehicleItem), required=True, validate=validate.Length(1, MAX_BULK)
    )


class StickerOut(Schema):
    short_code = fields.String(attribute="display_code")
    generation = fields.Integer()
    url = fields.String()
    issued_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    needs_reprint = fields.Boolean()
    printed_at = fields.DateTime(allow_none=True)


class VehicleOut(Schema):
    external_id = fields.String(allow_none=True)
    plate = fields.String()
    unit = fields.String(attribute="unit.code", metadata={"description": "the unit's code"})
    category = fields.String()
    brand_model = fields.String()
    colour = fields.String()
    status = fields.String()
    publicly_marked = fields.Boolean()
    updated_at = fields.DateTime()


class VehiclePage(Schema):
    items = fields.List(fields.Nested(VehicleOut))
    next_cursor = fields.String(allow_none=True)


class UpsertResult(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    items = fields.List(fields.Nested(VehicleOut))


class Reason(Schema):
    reason = text(200, required=True)


class StickerStatus(Schema):
    external_id = fields.String(allow_none=True)
    plate = fields.String()
    live = fields.Nested(StickerOut, allow_none=True)
    history = fields.List(fields.Nested(StickerOut))
