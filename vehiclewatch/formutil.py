"""Small helpers shared by the feature packages' forms."""

from collections.abc import Iterable

from wtforms.fields.choices import SelectChoice


def choices(pairs: Iterable[tuple]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select options; labels may be lazy strings."""
    return [SelectChoice(str(value), str(label)) for value, label in pairs]
