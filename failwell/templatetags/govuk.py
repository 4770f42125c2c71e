"""GOV.UK Design System markup for Django forms, statuses and pagination, and dates.

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

import html
from dataclasses import dataclass

from django import forms, template
from django.core.paginator import Page
from django.forms.boundfield import BoundField
from django.forms.utils import ErrorList
from django.http import QueryDict
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

from failwell import dates
from failwell.filters import query_string
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
    """Render one form field as a GOV.UK form group. See the module docstring.

    The markup is written here rather than in a template per component: a template
    and its included label, legend, hint and error templates cost the dashboard's
    filter form more Python time than all of the page's SQL. Every value goes
    through _text, as {{ value }} would in a template.
    """
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
    errors = field.errors
    hint_id = f"{field.auto_id}-hint" if hint_text else ""
    error_id = f"{field.auto_id}-error" if errors else ""
    described_by = " ".join(filter(None, [hint_id, error_id]))
    parts = FieldParts(
        field=field,
        errors=errors,
        label=label or field.label,
        label_size=label_size,
        page_heading=page_heading,
        hint=hint_text,
        hint_id=hint_id,
        error_id=error_id,
        described_by=described_by,
        classes=classes,
    )
    if kind in ("input", "textarea", "select", "file", "checkbox"):
        attrs = {"class": _input_classes(kind, bool(errors), classes)}
        if described_by:
            attrs["aria-describedby"] = described_by
        widget = field.as_widget(attrs=attrs)
        html = _checkbox(parts, widget) if kind == "checkbox" else _single_input(parts, widget)
    elif kind == "date":
        html = _date_input(parts, _date_parts(field, classes))
    elif kind == "checkboxes":
        html = _checkboxes(parts)
    else:
        html = _radios(parts)
    return SafeString(html)


def _text(value: object) -> str:
    """A value as {{ value }} writes it in a template: localized, then escaped
    unless it is already safe (django.template.base.render_value_in_context)."""
    if type(value) is str:
        # The usual case, without the checks for lazy and safe strings.
        return html.escape(value)
    value = localize(value)
    if not issubclass(type(value), str):
        value = str(value)
    return conditional_escape(value)


@dataclass(frozen=True)
class FieldParts:
    """What the markup of one form group is made from."""

    field: BoundField
    errors: ErrorList
    label: str
    label_size: str
    page_heading: bool
    hint: str
    hint_id: str
    error_id: str
    described_by: str
    classes: str

    def group_class(self) -> str:
        return "govuk-form-group govuk-form-group--error" if self.errors else "govuk-form-group"

    def described_by_attribute(self) -> str:
        return f' aria-describedby="{_text(self.described_by)}"' if self.described_by else ""

    def error_messages(self) -> str:
        """Each error as a GOV.UK error message; the first has the id that
        aria-describedby names."""
        first_id = f' id="{_text(self.error_id)}"'
        return "".join(
            f'<p{first_id if index == 0 else ""} class="govuk-error-message">'
            f'<span class="govuk-visually-hidden">Error:</span> {_text(error)}</p>'
            for index, error in enumerate(self.errors)
        )

    def label_tag(self) -> str:
        size = f" govuk-label--{_text(self.label_size)}" if self.label_size else ""
        tag = (
            f'<label class="govuk-label{size}" for="{_text(self.field.id_for_label)}">'
            f"{_text(self.label)}</label>"
        )
        return f'<h1 class="govuk-label-wrapper">{tag}</h1>\n' if self.page_heading else f"{tag}\n"

    def legend(self) -> str:
        size = f" govuk-fieldset__legend--{_text(self.label_size)}" if self.label_size else ""
        text = (
            f'<h1 class="govuk-fieldset__heading">{_text(self.label)}</h1>'
            if self.page_heading
            else _text(self.label)
        )
        return f'<legend class="govuk-fieldset__legend{size}">{text}</legend>\n'

    def hint_and_errors(self) -> str:
        hint = (
            f'<div id="{_text(self.hint_id)}" class="govuk-hint">{_text(self.hint)}</div>'
            if self.hint
            else ""
        )
        return f"{hint}\n{self.error_messages()}\n"


def _single_input(parts: FieldParts, widget: str) -> str:
    """Text inputs, textarea, select and file upload: label, hint, errors, widget."""
    return (
        f'\n<div class="{parts.group_class()}">\n'
        f"  {parts.label_tag()}\n"
        f"  {parts.hint_and_errors()}\n"
        f"  {widget}\n"
        "</div>\n"
    )


def _checkbox(parts: FieldParts, widget: str) -> str:
    """A single checkbox (a BooleanField), its label beside the box."""
    hint = (
        f'<div id="{_text(parts.hint_id)}" class="govuk-hint govuk-checkboxes__hint">'
        f"{_text(parts.hint)}</div>"
        if parts.hint
        else ""
    )
    return (
        f'<div class="{parts.group_class()}">\n'
        f"  {parts.error_messages()}\n"
        '  <div class="govuk-checkboxes govuk-checkboxes--small" data-module="govuk-checkboxes">\n'
        '    <div class="govuk-checkboxes__item">\n'
        f"      {widget}\n"
        '      <label class="govuk-label govuk-checkboxes__label"'
        f' for="{_text(parts.field.id_for_label)}">{_text(parts.label)}</label>\n'
        f"      {hint}\n"
        "    </div>\n"
        "  </div>\n"
        "</div>\n"
    )


def _fieldset(parts: FieldParts, inside: str, role: str = "") -> str:
    """A fieldset with its legend, hint and errors, then `inside`."""
    return (
        f'<div class="{parts.group_class()}">\n'
        f'  <fieldset class="govuk-fieldset"{role}{parts.described_by_attribute()}>\n'
        f"    {parts.legend()}\n"
        f"    {parts.hint_and_errors()}\n"
        f"    {inside}\n"
        "  </fieldset>\n"
        "</div>\n"
    )


def _choices(parts: FieldParts, component: str, input_type: str) -> str:
    """The boxes of radios or checkboxes, one item per option with a value."""
    classes = f" {_text(parts.classes)}" if parts.classes else ""
    items = []
    for option in parts.field.subwidgets:
        data = option.data
        value = data["value"]
        # Radios leave out an empty choice ("---------"): no choice is how to give none.
        if input_type == "radio" and (value == "" or value is None):
            continue
        option_id = _text(data["attrs"].get("id", ""))
        checked = " checked" if data["selected"] else ""
        items.append(
            "\n"
            f'        <div class="govuk-{component}__item">\n'
            f'          <input class="govuk-{component}__input" id="{option_id}"'
            f' name="{_text(data["name"])}" type="{input_type}" value="{_text(value)}"{checked}>\n'
            f'          <label class="govuk-label govuk-{component}__label" for="{option_id}">'
            f"{_text(option.choice_label)}</label>\n"
            "        </div>\n"
            "      "
        )
    return (
        f'<div class="govuk-{component}{classes}" data-module="govuk-{component}">\n'
        f"      {''.join(items)}\n"
        "    </div>"
    )


def _checkboxes(parts: FieldParts) -> str:
    return _fieldset(parts, _choices(parts, "checkboxes", "checkbox"))


def _radios(parts: FieldParts) -> str:
    return _fieldset(parts, _choices(parts, "radios", "radio"))


def _date_input(parts: FieldParts, boxes: list[dict]) -> str:
    """Day, month and year boxes in a fieldset."""
    items = "".join(
        "\n"
        '        <div class="govuk-date-input__item">\n'
        '          <div class="govuk-form-group">\n'
        '            <label class="govuk-label govuk-date-input__label"'
        f' for="{_text(box["id"])}">{_text(box["label"])}</label>\n'
        f'            <input class="{_text(box["classes"])}" id="{_text(box["id"])}"'
        f' name="{_text(box["name"])}" type="text" inputmode="numeric"'
        f' value="{_text(box["value"])}">\n'
        "          </div>\n"
        "        </div>\n"
        "      "
        for box in boxes
    )
    inside = (
        f'<div class="govuk-date-input" id="{_text(parts.field.auto_id)}">\n'
        f"      {items}\n"
        "    </div>"
    )
    return _fieldset(parts, inside, role=' role="group"')


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


# The date filter's "j M Y" and "j F Y", as failwell.dates writes them: the filter
# parses its format and reads the language for each month name, 35 µs a date in a
# template, five times as long (the institution page writes a dozen).


@register.filter(expects_localtime=True)
def short_date(day) -> str:
    """3 Mar 2010: {{ day|date:"j M Y" }}."""
    return "" if day in (None, "") else dates.short_date(day)


@register.filter(expects_localtime=True)
def long_date(day) -> str:
    """3 March 2010: {{ day|date:"j F Y" }}."""
    return "" if day in (None, "") else dates.long_date(day)


PREVIOUS_ICON = (
    '<svg class="govuk-pagination__icon govuk-pagination__icon--prev"'
    ' xmlns="http://www.w3.org/2000/svg" height="13" width="15" aria-hidden="true"'
    ' focusable="false" viewBox="0 0 15 13">\n'
    '            <path d="m6.5938-0.0078125-6.7266 6.7266 6.7441 6.4062 1.377-1.449-4.1856'
    '-3.9768h12.896v-2h-12.984l4.2931-4.293-1.414-1.414z"></path>\n'
    "          </svg>"
)
NEXT_ICON = (
    '<svg class="govuk-pagination__icon govuk-pagination__icon--next"'
    ' xmlns="http://www.w3.org/2000/svg" height="13" width="15" aria-hidden="true"'
    ' focusable="false" viewBox="0 0 15 13">\n'
    '            <path d="m8.107-0.0078125-1.4136 1.414 4.2926 4.293h-12.986v2h12.896l-4.1855'
    ' 3.9766 1.377 1.4492 6.7441-6.4062-6.7246-6.7266z"></path>\n'
    "          </svg>"
)


@register.simple_tag
def govuk_pagination(page: Page, query: QueryDict) -> SafeString:
    """GOV.UK pagination for a Page, every link keeping the other parameters of
    `query` (filters, search, sort); nothing when there is only one page.

    Written here rather than in includes/pagination.html, which calls it: the
    template's {% querystring %} per link and its lookups on the page cost a
    dashboard page more than its rows' template did.
    """
    if not page.has_other_pages():
        return SafeString("")

    def href(number: int) -> str:
        return html.escape(query_string(query, page=str(number)))

    parts = ['\n  <nav class="govuk-pagination" aria-label="Pagination">\n    ']
    if page.has_previous():
        parts.append(
            "\n"
            '      <div class="govuk-pagination__prev">\n'
            '        <a class="govuk-link govuk-pagination__link"'
            f' href="{href(page.previous_page_number())}" rel="prev">\n'
            f"          {PREVIOUS_ICON}\n"
            '          <span class="govuk-pagination__link-title">Previous'
            '<span class="govuk-visually-hidden"> page</span></span>\n'
            "        </a>\n"
            "      </div>\n"
            "    "
        )
    parts.append('\n    <ul class="govuk-pagination__list">\n      \n      ')
    for number in page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1):
        parts.append("\n        ")
        if number == page.number:
            parts.append(
                "\n"
                '          <li class="govuk-pagination__item govuk-pagination__item--current">\n'
                f'            <a class="govuk-link govuk-pagination__link" href="{href(number)}"'
                f' aria-label="Page {_text(number)}" aria-current="page">{_text(number)}</a>\n'
                "          </li>\n"
                "        "
            )
        elif number == page.paginator.ELLIPSIS:
            parts.append(
                "\n"
                '          <li class="govuk-pagination__item govuk-pagination__item--ellipses">'
                "&ctdot;</li>\n"
                "        "
            )
        else:
            parts.append(
                "\n"
                '          <li class="govuk-pagination__item">\n'
                f'            <a class="govuk-link govuk-pagination__link" href="{href(number)}"'
                f' aria-label="Page {_text(number)}">{_text(number)}</a>\n'
                "          </li>\n"
                "        "
            )
        parts.append("\n      ")
    parts.append("\n    </ul>\n    ")
    if page.has_next():
        parts.append(
            "\n"
            '      <div class="govuk-pagination__next">\n'
            '        <a class="govuk-link govuk-pagination__link"'
            f' href="{href(page.next_page_number())}" rel="next">\n'
            '          <span class="govuk-pagination__link-title">Next'
            '<span class="govuk-visually-hidden"> page</span></span>\n'
            f"          {NEXT_ICON}\n"
            "        </a>\n"
            "      </div>\n"
            "    "
        )
    parts.append("\n  </nav>\n")
    return SafeString("".join(parts))
