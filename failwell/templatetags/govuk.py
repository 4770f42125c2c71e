"""GOV.UK Design System markup for Django forms, statuses and pagination.

    {% load govuk %}
    {% govuk_field form.observed_on %}
    {% govuk_field form.summary label_size="m" hint="What you saw, in a sentence." %}
    {% govuk_field form.name page_heading=True label_size="l" %}
    {% govuk_field form.value classes="govuk-input--width-5" %}

The field's widget decides the markup: text-like inputs, textarea, select,
radios (RadioSelect), checkboxes (CheckboxSelectMultiple), a single checkbox
(BooleanField), file upload, and the three-box date (failwell.widgets.DateInputs).
Errors get GOV.UK's error message and error classes; help_text is the hint.
Forms should carry ``novalidate`` so that the server's error summary, not the
browser's bubbles, reports problems.
"""

from django import forms, template
from django.core.paginator import Page
from django.forms.boundfield import BoundField
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from failwell.widgets import DateInputs
from institutions.models import TrajectoryStatus

register = template.Library()

LABEL_SIZES = {"", "s", "m", "l", "xl"}

# GOV.UK tag colours for each trajectory status. Colour is never the only signal:
# the tag always carries the status's name.
STATUS_TAG_CLASSES = {
    TrajectoryStatus.UNKNOWN: "govuk-tag--grey",
    TrajectoryStatus.FAILING: "govuk-tag--red",
    TrajectoryStatus.EARLY_RECOVERY: "",  # the default tag, blue
    TrajectoryStatus.DETERIORATING: "govuk-tag--orange",
    TrajectoryStatus.IMPROVING: "govuk-tag--teal",
    TrajectoryStatus.STALLED: "govuk-tag--yellow",
    TrajectoryStatus.RELAPSING: "govuk-tag--red",
    TrajectoryStatus.SUSTAINED: "govuk-tag--green",
    TrajectoryStatus.RECOVERED: "govuk-tag--green",
    TrajectoryStatus.NOT_FAILING: "govuk-tag--grey",
}


def widget_kind(widget: forms.Widget) -> str:
    """Which GOV.UK component renders this widget (the name of its template)."""
    if isinstance(widget, DateInputs):
        return "date"
    if isinstance(widget, forms.HiddenInput | forms.MultipleHiddenInput):
        return "hidden"
    # CheckboxSelectMultiple is a subclass of RadioSelect, so it is asked first.
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.FileInput):
        return "file"
    return "input"


@register.filter
def error_anchor(field: BoundField) -> str:
    """The id of the element an error summary link for this field jumps to.

    It is ``id_<name>`` for single inputs, and the first box or option for dates,
    radios and checkboxes, as the GOV.UK error summary guidance asks.
    """
    kind = widget_kind(field.field.widget)
    if kind == "date":
        return f"{field.auto_id}_day"
    if kind in ("radios", "checkboxes"):
        return f"{field.auto_id}_0"
    return field.auto_id


def _input_classes(kind: str, has_errors: bool, extra: str) -> str:
    base = {
        "input": "govuk-input",
        "textarea": "govuk-textarea",
        "select": "govuk-select",
        "file": "govuk-file-upload",
        "checkbox": "govuk-checkboxes__input",
    }[kind]
    classes = [base]
    if has_errors and kind in ("input", "textarea", "select", "file"):
        classes.append(f"{base}--error")
    if extra:
        classes.append(extra)
    return " ".join(classes)


@register.simple_tag
def govuk_field(
    field: BoundField,
    label: str = "",
    label_size: str = "",
    page_heading: bool = False,
    hint: str | None = None,
    classes: str = "",
) -> SafeString:
    """Render one form field as a GOV.UK form group. See the module docstring."""
    if not isinstance(field, BoundField):
        raise template.TemplateSyntaxError(
            f"govuk_field needs a form field such as form.name, not {field!r}."
        )
    if label_size not in LABEL_SIZES:
        raise template.TemplateSyntaxError(
            f"govuk_field label_size={label_size!r}: use one of s, m, l, xl."
        )
    kind = widget_kind(field.field.widget)
    if kind == "hidden":
        return field.as_widget()

    hint_text = field.help_text if hint is None else hint
    hint_id = f"{field.auto_id}-hint" if hint_text else ""
    error_id = f"{field.auto_id}-error" if field.errors else ""
    described_by = " ".join(filter(None, [hint_id, error_id]))

    context = {
        "field": field,
        "kind": kind,
        "label": label or field.label,
        "label_size": label_size,
        "page_heading": page_heading,
        "hint": hint_text,
        "hint_id": hint_id,
        "error_id": error_id,
        "described_by": described_by,
        "classes": classes,
    }
    if kind in ("input", "textarea", "select", "file", "checkbox"):
        attrs = {"class": _input_classes(kind, bool(field.errors), classes)}
        if described_by:
            attrs["aria-describedby"] = described_by
        context["widget"] = field.as_widget(attrs=attrs)
    if kind == "date":
        context["parts"] = _date_parts(field, classes)
    # Single-element widgets share one template; the widget carries the classes.
    template_name = "input" if kind in ("textarea", "select", "file") else kind
    return render_to_string(f"includes/fields/{template_name}.html", context)


def _date_parts(field: BoundField, extra: str) -> list[dict]:
    """Day, month and year boxes with the values last entered."""
    widths = {"day": 2, "month": 2, "year": 4}
    values = field.field.widget.decompress(field.value())
    parts = []
    for part, value in zip(DateInputs.parts, values, strict=True):
        box_classes = [
            "govuk-input",
            "govuk-date-input__input",
            f"govuk-input--width-{widths[part]}",
        ]
        if field.errors:
            box_classes.append("govuk-input--error")
        if extra:
            box_classes.append(extra)
        parts.append(
            {
                "label": part.title(),
                "id": f"{field.auto_id}_{part}",
                "name": f"{field.html_name}_{part}",
                "value": value or "",
                "classes": " ".join(box_classes),
            }
        )
    return parts


@register.filter
def status_tag_class(status: str) -> str:
    """The GOV.UK tag modifier class for a TrajectoryStatus value."""
    return STATUS_TAG_CLASSES.get(status, "govuk-tag--grey")


@register.filter
def status_label(status: str) -> str:
    """A TrajectoryStatus value in words ("early_recovery" -> "Early recovery")."""
    try:
        return TrajectoryStatus(status).label
    except ValueError:
        return str(status)


@register.simple_tag
def page_numbers(page: Page) -> list:
    """Page numbers to link to around the current one, with Paginator.ELLIPSIS gaps."""
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1))
