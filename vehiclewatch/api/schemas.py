"""What the API reads and writes (marshmallow schemas; the OpenAPI document is made from them)."""

from datetime import UTC, datetime

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


def text(max_length: int, required: bool = False, blank: bool = True, **kwargs) -> Text:
    """A text field: required (and not empty), or optional, read as "" when left out unless
    `blank` is false (a change: what is left out stays as it is)."""
    minimum = 1 if required else 0
    if required:
        kwargs["required"] = True
    elif blank:
        kwargs["load_default"] = ""
    return Text(validate=validate.Length(minimum, max_length), **kwargs)


def bulk_of(item: type[Schema]) -> type[Schema]:
    return Schema.from_dict(
        {
            "items": fields.List(
                fields.Nested(item), required=True, validate=validate.Length(1, MAX_BULK)
            )
        },
        name=f"{item.__name__}Bulk",
    )


def page_of(item: type[Schema]) -> type[Schema]:
    name = item.__name__.removesuffix("Out")
    return Schema.from_dict(
        {"items": fields.List(fields.Nested(item)), "next_cursor": fields.String(allow_none=True)},
        name=f"{name}Page",
    )


def list_of(item: type[Schema]) -> type[Schema]:
    name = item.__name__.removesuffix("Out")
    return Schema.from_dict({"items": fields.List(fields.Nested(item))}, name=f"{name}List")


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


VehicleBulk = bulk_of(VehicleItem)


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


VehiclePage = page_of(VehicleOut)


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


# --- trip approvals and sealing --------------------------------------------------------

# Times a fleet platform sends carry their offset; none outside this century is a trip.
MOMENT = validate.Range(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def moment(required: bool = False) -> fields.AwareDateTime:
    return fields.AwareDateTime(required=required, validate=MOMENT)


def vehicle_ref(required: bool = False) -> fields.String:
    return fields.String(
        required=required,
        validate=validate.Regexp(EXTERNAL_ID_PATTERN),
        metadata={"description": "the car's external_id"},
    )


class TripChanges(Schema):
    vehicle = vehicle_ref()
    purpose = text(200, blank=False)
    destination = text(200, blank=False)
    start_at = moment()
    end_at = moment()
    driver = text(60, blank=False)
    approver = text(60, blank=False)
    emergency = fields.Boolean()


class TripIn(TripChanges):
    vehicle = vehicle_ref(required=True)
    purpose = text(200, required=True)
    start_at = moment(required=True)
    end_at = moment(required=True)
    emergency = fields.Boolean(load_default=False)


class SealingChanges(Schema):
    vehicle = vehicle_ref()
    place = text(200, blank=False)
    key_holder = text(60, blank=False)
    exempt = fields.Boolean()
    exemption_reason = text(200, blank=False)
    exemption_approver = text(60, blank=False)


class SealingIn(SealingChanges):
    vehicle = vehicle_ref(required=True)
    holiday = text(40, required=True, metadata={"description": "the holiday's name, e.g. 春节"})
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    exempt = fields.Boolean(load_default=False)


class TripAmend(TripChanges):
    reason = text(200, required=True)


class SealingAmend(SealingChanges):
    reason = text(200, required=True)


class VersionOut(Schema):
    number = fields.Integer()
    change = fields.String(metadata={"description": "entered, amended or cancelled"})
    recorded_at = fields.DateTime()
    reason = fields.String()
    vehicle = fields.String(attribute="vehicle.external_id", allow_none=True)


class TripContent(Schema):
    purpose = fields.String()
    destination = fields.String()
    start_at = fields.DateTime()
    end_at = fields.DateTime()
    driver = fields.String()
    approver = fields.String()
    emergency = fields.Boolean()


class SealingContent(Schema):
    place = fields.String()
    key_holder = fields.String()
    exempt = fields.Boolean()
    exemption_reason = fields.String()
    exemption_approver = fields.String()


class RecordOut(Schema):
    id = fields.Integer()
    vehicle = fields.String(attribute="vehicle.external_id", allow_none=True)
    plate = fields.String(attribute="vehicle.plate")
    entered_at = fields.DateTime()
    version = fields.Integer()
    amended_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)


class TripVersionOut(VersionOut, TripContent):
    pass


class SealingVersionOut(VersionOut, SealingContent):
    pass


class TripOut(RecordOut, TripContent):
    versions = fields.List(fields.Nested(TripVersionOut))


class SealingOut(RecordOut, SealingContent):
    holiday = fields.String(attribute="holiday_period.name")
    holiday_start = fields.Date(attribute="holiday_period.start")
    versions = fields.List(fields.Nested(SealingVersionOut))
