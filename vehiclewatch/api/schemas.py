"""What the API reads and writes (marshmallow schemas; the OpenAPI document is made from them)."""

from datetime import UTC, datetime

from marshmallow import Schema, fields, validate

from ..fleet.models import Category, Status
from ..inputs import strip_controls
from ..reports.models import Category as ReportCategory
from ..reports.models import Source
from ..reports.states import State

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


# --- reports, rounds, draws and bulletins (reads) ----------------------------------------


def nullable(field_class, **kwargs):
    return field_class(allow_none=True, **kwargs)


def enum_of(values, description: str = "") -> fields.String:
    metadata = {"enum": sorted(v.value for v in values)}
    if description:
        metadata["description"] = description
    return fields.String(metadata=metadata)


class ReportListArgs(ListArgs):
    state = fields.String(validate=validate.OneOf([s.value for s in State]))
    category = fields.String(validate=validate.OneOf([c.value for c in ReportCategory]))
    unit = fields.String(
        validate=validate.Length(1, 40),
        metadata={"description": "a unit's code: reports about its cars and its subtree's"},
    )
    round_start = fields.Date(
        data_key="round", metadata={"description": "a round's key, its first day (YYYY-MM-DD)"}
    )
    since = fields.AwareDateTime(
        validate=MOMENT, metadata={"description": "filed at or after this moment (with offset)"}
    )
    updated_since = fields.AwareDateTime(
        data_key="updated-since",
        validate=MOMENT,
        metadata={
            "description": "with a timeline entry at or after this moment: filed, a state "
            "change, the reporter's addition or objection, the reply, the acknowledgement "
            "of a real-name report (a rescoring alone is not a change)"
        },
    )


class PersonOut(Schema):
    """A staff member, as the officers' pages name them."""

    username = fields.String()
    name = fields.String()


class ReportSummaryOut(Schema):
    id = fields.Integer()
    url = fields.String(metadata={"description": "this report in the API"})
    page_url = fields.String(
        metadata={"description": "the report's page for officers: hand work back there"}
    )
    state = enum_of(State)
    category = enum_of(ReportCategory)
    source = enum_of(Source)
    unit = fields.String(metadata={"description": "the code of the car's unit"})
    jurisdiction = nullable(fields.String, metadata={"description": "that unit's 县区 or city"})
    plate = fields.String()
    vehicle = nullable(fields.String, metadata={"description": "the car's external_id"})
    seen_at = fields.DateTime()
    round = nullable(fields.Date, metadata={"description": "the round's key (its first day)"})
    created_at = fields.DateTime(metadata={"description": "filed"})
    state_changed_at = fields.DateTime()
    updated_at = fields.DateTime(metadata={"description": "the latest timeline entry"})
    score = fields.Integer(metadata={"description": "the evidence score the queue ranks by"})
    flagged = fields.Boolean(metadata={"description": "hard evidence of misuse"})
    burst = fields.Boolean(metadata={"description": "filed during a burst of reports of the car"})


ReportPage = page_of(ReportSummaryOut)


class DispatchOut(Schema):
    data_exists = fields.Boolean(metadata={"description": "trip approvals exist for the day"})
    sealed = fields.Boolean(metadata={"description": "sealed for a holiday, no exemption"})
    not_covered = fields.Boolean()
    late = fields.Boolean(metadata={"description": "covered only by approvals entered late"})
    covering = fields.List(fields.Integer(), metadata={"description": "trip approval ids"})


class EvidenceOut(Schema):
    score = fields.Integer()
    parts = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "points each"}
    )
    dispatch = fields.Nested(DispatchOut, allow_none=True)


class PhotoOut(Schema):
    id = fields.Integer()
    url = fields.String(metadata={"description": "the photo (token and scope needed)"})
    display_url = fields.String(metadata={"description": "a smaller copy"})
    width = fields.Integer()
    height = fields.Integer()
    added_at = fields.DateTime()
    taken_at = nullable(fields.DateTime, metadata={"description": "from the photo's metadata"})
    latitude = nullable(fields.Float)
    longitude = nullable(fields.Float)
    flags = fields.List(fields.String(), metadata={"description": "disagreements with the report"})


class EventOut(Schema):
    at = fields.DateTime()
    kind = fields.String()
    from_state = nullable(fields.String)
    to_state = nullable(fields.String)
    actor = fields.Nested(PersonOut, allow_none=True, metadata={"description": "null: reporter"})
    public_text = nullable(fields.String, metadata={"description": "what the reporter is told"})
    note = nullable(fields.String)


class ReportOut(ReportSummaryOut):
    place = fields.String()
    latitude = nullable(fields.Float)
    longitude = nullable(fields.Float)
    description = fields.String()
    plate_matches = nullable(fields.Boolean)
    real_name = fields.Boolean(
        metadata={"description": "the reporter gave a name; contacts are never in the API"}
    )
    assigned_to = fields.Nested(PersonOut, allow_none=True)
    method = nullable(fields.String)
    finding = nullable(fields.String)
    outcome = nullable(fields.String)
    reject_reason = nullable(fields.String)
    transferred_to = nullable(fields.String)
    duplicate_of = nullable(fields.Integer)
    public_reply = nullable(fields.String)
    replied_at = nullable(fields.DateTime)
    objected_at = nullable(fields.DateTime)
    acknowledged_at = nullable(fields.DateTime)
    legal_hold = fields.Boolean()
    photos_purged_at = nullable(fields.DateTime)
    evidence = fields.Nested(EvidenceOut)
    photos = fields.List(fields.Nested(PhotoOut))
    events = fields.List(fields.Nested(EventOut))


class PhotoArgs(Schema):
    size = fields.String(
        load_default="evidence",
        validate=validate.OneOf(["evidence", "display"]),
        metadata={"description": "evidence: full size; display: the smaller copy"},
    )


class CampaignOut(Schema):
    name = fields.String()
    start = fields.Date()
    end = fields.Date()
    holidays = fields.List(fields.String())


class DrawCommitmentOut(Schema):
    """What was published at the draw."""

    id = fields.Integer()
    round = fields.Date()
    round_end = fields.Date()
    drawn_at = fields.DateTime()
    per_jurisdiction = fields.Integer()
    seed_hash = fields.String()
    candidates_hash = fields.String()
    public_source = nullable(fields.String, metadata={"description": "the named public draw"})
    public_value = nullable(fields.String)
    public_value_at = nullable(fields.DateTime)
    superseded_at = nullable(fields.DateTime)
    redraw_reason = nullable(fields.String)
    page_url = fields.String(metadata={"description": "the public page that re-runs the draw"})


class RevealedOut(Schema):
    """Published once the round has ended: everything needed to re-run the draw."""

    seed = fields.String()
    public_value = nullable(fields.String)
    candidates = fields.String(metadata={"description": "the candidate list exactly as hashed"})
    per_jurisdiction = fields.Integer()
    lists = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    teams = fields.Dict(keys=fields.String(), values=fields.String())


class DrawOut(DrawCommitmentOut):
    revealed = fields.Nested(RevealedOut, allow_none=True)


class BulletinLinkOut(Schema):
    id = fields.Integer()
    url = fields.String()
    title = fields.String()
    doc_number = nullable(fields.String)
    jurisdiction = fields.String()


class RoundOut(Schema):
    key = fields.String(metadata={"description": "the round's first day"})
    start = fields.Date()
    end = fields.Date()
    number = fields.Integer(metadata={"description": "1 for the campaign's first week"})
    campaign = fields.Nested(CampaignOut)
    url = fields.String()
    reports_url = fields.String(metadata={"description": "the round's reports in the API"})
    draws = fields.List(fields.Nested(DrawCommitmentOut))
    bulletins = fields.List(fields.Nested(BulletinLinkOut), metadata={"description": "published"})


RoundList = list_of(RoundOut)


class RoundDetailOut(RoundOut):
    draws = fields.List(fields.Nested(DrawOut))


class BulletinOut(BulletinLinkOut):
    page_url = fields.String()
    pdf_url = fields.String()
    issuer = fields.String()
    round = fields.Date()
    round_end = fields.Date()
    published_at = fields.DateTime()
    corrects = nullable(fields.Integer, metadata={"description": "the bulletin it corrects"})
    corrected_by = nullable(fields.Integer, metadata={"description": "its published correction"})


BulletinPage = page_of(BulletinOut)


class FiguresOut(Schema):
    received = fields.Integer()
    accepted = fields.Integer()
    substantiated = fields.Integer()
    by_category = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_jurisdiction = fields.Dict(keys=fields.String(), values=fields.Integer())
    spot_checks_done = fields.Integer()
    problems_found = fields.Integer()


class CaseOut(Schema):
    unit_name = fields.String()
    person_position = fields.String()
    occurred_on = fields.Date()
    plate = fields.String()
    what_happened = fields.String()
    outcome = fields.String()
    deciding_body = fields.String()


class BulletinDetailOut(BulletinOut):
    correction_note = nullable(fields.String)
    figures = fields.Nested(FiguresOut)
    cases = fields.List(fields.Nested(CaseOut))
    audit_anchor = nullable(fields.String, metadata={"description": "COUNT:HASH at approval"})
