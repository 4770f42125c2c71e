"""The GOV.UK form field tag, the date widget, the status tag, pagination and dates."""

import datetime

import pytest
from django import forms
from django.core.paginator import Paginator
from django.template import Context, Template, TemplateSyntaxError
from django.test import RequestFactory

from failwell.widgets import DateInputs
from institutions.models import TrajectoryStatus


class EvidenceForm(forms.Form):
    summary = forms.CharField(help_text="One sentence.")
    notes = forms.CharField(widget=forms.Textarea, required=False)
    direction = forms.ChoiceField(
        choices=[("positive", "Positive"), ("negative", "Negative")], widget=forms.RadioSelect
    )
    areas = forms.MultipleChoiceField(
        choices=[("a", "Area A"), ("b", "Area B")], widget=forms.CheckboxSelectMultiple
    )
    indicator = forms.ChoiceField(choices=[("", "Choose"), ("x", "Exclusions")])
    confirmed = forms.BooleanField(label="I have checked this")
    observed_on = forms.DateField(widget=DateInputs)
    attachment = forms.FileField(required=False, widget=forms.FileInput)
    token = forms.CharField(widget=forms.HiddenInput, required=False)


def render(source: str, **context) -> str:
    return Template("{% load govuk %}" + source).render(Context(context))


def squash(html: str) -> str:
    return " ".join(html.split())


def test_a_text_field_has_label_hint_and_input_wired_together():
    html = squash(render("{% govuk_field form.summary %}", form=EvidenceForm()))
    assert '<label class="govuk-label" for="id_summary">Summary</label>' in html
    assert '<div id="id_summary-hint" class="govuk-hint">One sentence.</div>' in html
    assert 'class="govuk-input"' in html
    assert 'aria-describedby="id_summary-hint"' in html
    assert "govuk-form-group--error" not in html


def test_a_field_with_an_error_gets_the_error_message_and_classes():
    form = EvidenceForm(data={})
    html = squash(
        render("{% govuk_field form.summary classes='govuk-input--width-20' %}", form=form)
    )
    assert 'class="govuk-form-group govuk-form-group--error"' in html
    assert (
        '<p id="id_summary-error" class="govuk-error-message">'
        '<span class="govuk-visually-hidden">Error:</span> This field is required.</p>'
    ) in html
    assert 'class="govuk-input govuk-input--error govuk-input--width-20"' in html
    assert 'aria-describedby="id_summary-hint id_summary-error"' in html


def test_label_size_and_page_heading():
    html = squash(
        render(
            "{% govuk_field form.summary label_size='l' page_heading=True %}", form=EvidenceForm()
        )
    )
    assert (
        '<h1 class="govuk-label-wrapper"><label class="govuk-label govuk-label--l" '
        'for="id_summary">Summary</label></h1>'
    ) in html


def test_an_unknown_label_size_is_a_clear_template_error():
    with pytest.raises(TemplateSyntaxError, match="label_size='huge'"):
        render("{% govuk_field form.summary label_size='huge' %}", form=EvidenceForm())


def test_something_that_is_not_a_field_is_a_clear_template_error():
    with pytest.raises(TemplateSyntaxError, match="needs a form field"):
        render("{% govuk_field form.nonexistent %}", form=EvidenceForm())


def test_textarea_select_and_file_use_their_govuk_classes():
    form = EvidenceForm(data={})
    html = squash(
        render(
            "{% govuk_field form.notes %}{% govuk_field form.indicator %}"
            "{% govuk_field form.attachment %}",
            form=form,
        )
    )
    assert '<textarea name="notes" cols="40" rows="10" class="govuk-textarea"' in html
    assert '<select name="indicator" class="govuk-select govuk-select--error"' in html
    assert 'type="file" name="attachment" class="govuk-file-upload"' in html


def test_radios_are_a_fieldset_with_a_legend_and_keep_the_choice():
    form = EvidenceForm(data={"direction": "negative"})
    html = squash(render("{% govuk_field form.direction label_size='m' %}", form=form))
    assert (
        '<legend class="govuk-fieldset__legend govuk-fieldset__legend--m">Direction</legend>'
        in html
    )
    assert '<div class="govuk-radios" data-module="govuk-radios">' in html
    assert (
        '<input class="govuk-radios__input" id="id_direction_1" name="direction" type="radio"'
        ' value="negative" checked>'
    ) in html
    assert (
        '<label class="govuk-label govuk-radios__label" for="id_direction_0">Positive</label>'
        in html
    )


def test_checkboxes_and_a_single_checkbox():
    form = EvidenceForm(data={"areas": ["b"], "confirmed": "on"})
    html = squash(render("{% govuk_field form.areas %}{% govuk_field form.confirmed %}", form=form))
    assert 'id="id_areas_1" name="areas" type="checkbox" value="b" checked>' in html
    assert 'id="id_areas_0" name="areas" type="checkbox" value="a">' in html
    assert 'name="confirmed" class="govuk-checkboxes__input"' in html
    assert 'id="id_confirmed" checked>' in html
    assert (
        '<label class="govuk-label govuk-checkboxes__label" for="id_confirmed">'
        "I have checked this</label>"
    ) in html


def test_a_hidden_field_renders_as_just_the_input():
    html = render("{% govuk_field form.token %}", form=EvidenceForm())
    assert html == '<input type="hidden" name="token" id="id_token">'


def test_the_date_widget_parses_three_boxes_into_a_date():
    form = EvidenceForm(
        data={"observed_on_day": "5", "observed_on_month": "3", "observed_on_year": "2011"}
    )
    form.is_valid()
    assert form.cleaned_data["observed_on"] == datetime.date(2011, 3, 5)


@pytest.mark.parametrize(
    ("day", "month", "year"),
    [("31", "2", "2011"), ("5", "3", "11"), ("x", "3", "2011"), ("5", "", "2011")],
)
def test_the_date_widget_rejects_impossible_or_partial_dates(day, month, year):
    form = EvidenceForm(
        data={"observed_on_day": day, "observed_on_month": month, "observed_on_year": year}
    )
    assert not form.is_valid()
    assert form.errors["observed_on"] == ["Enter a valid date."]


def test_the_date_widget_shows_what_was_typed_beside_the_error():
    form = EvidenceForm(
        data={"observed_on_day": "31", "observed_on_month": "2", "observed_on_year": "2011"}
    )
    html = squash(render("{% govuk_field form.observed_on %}", form=form))
    assert (
        '<fieldset class="govuk-fieldset" role="group" aria-describedby="id_observed_on-error">'
        in html
    )
    assert (
        '<input class="govuk-input govuk-date-input__input govuk-input--width-2 govuk-input--error"'
        ' id="id_observed_on_day" name="observed_on_day" type="text" inputmode="numeric"'
        ' value="31">'
    ) in html
    assert 'name="observed_on_year" type="text" inputmode="numeric" value="2011">' in html


def test_the_date_widget_shows_an_initial_date():
    form = EvidenceForm(initial={"observed_on": datetime.date(2010, 6, 30)})
    html = squash(render("{% govuk_field form.observed_on %}", form=form))
    assert 'name="observed_on_day" type="text" inputmode="numeric" value="30">' in html
    assert 'name="observed_on_month" type="text" inputmode="numeric" value="6">' in html


def test_the_error_summary_links_each_error_to_its_first_input():
    form = EvidenceForm(data={})
    form.add_error(None, "Something about the whole form.")
    html = squash(render('{% include "includes/error_summary.html" %}', form=form))
    assert '<a href="#id_summary">Something about the whole form.</a>' in html
    assert '<a href="#id_summary">This field is required.</a>' in html
    assert '<a href="#id_direction_0">This field is required.</a>' in html
    assert '<a href="#id_areas_0">This field is required.</a>' in html
    assert '<a href="#id_observed_on_day">This field is required.</a>' in html
    assert '<a href="#id_confirmed">This field is required.</a>' in html


def test_the_error_summary_is_absent_without_errors():
    assert render('{% include "includes/error_summary.html" %}', form=EvidenceForm()).strip() == ""


@pytest.mark.parametrize(
    ("status", "css_class", "label"),
    [
        ("failing", "govuk-tag--red", "Failing"),
        ("relapsing", "govuk-tag--red", "Relapsing"),
        ("deteriorating", "govuk-tag--orange", "Deteriorating"),
        ("stalled", "govuk-tag--yellow", "Stalled"),
        ("early_recovery", "", "Early recovery"),
        ("improving", "govuk-tag--teal", "Improving"),
        ("recovered", "govuk-tag--green", "Recovered"),
        ("sustained", "govuk-tag--green", "Sustained recovery"),
        ("not_failing", "govuk-tag--grey", "Not failing"),
        ("unknown", "govuk-tag--grey", "Unknown"),
    ],
)
def test_each_status_has_its_tag_colour_and_words(status, css_class, label):
    html = render('{% include "includes/status_tag.html" %}', status=status).strip()
    assert html == f'<strong class="govuk-tag {css_class}">{label}</strong>'


def test_every_trajectory_status_has_a_tag_colour():
    from failwell.templatetags.govuk import STATUS_TAG_CLASSES

    assert set(STATUS_TAG_CLASSES) == set(TrajectoryStatus)


def pagination_html(page_number: int, count: int = 200, query: str = "") -> str:
    request = RequestFactory().get("/" + query)
    page = Paginator(range(count), 10).page(page_number)
    return squash(
        render('{% include "includes/pagination.html" %}', page_obj=page, request=request)
    )


def test_pagination_is_absent_for_a_single_page():
    assert pagination_html(1, count=5) == ""


def test_pagination_keeps_the_filters_and_elides_far_pages():
    html = pagination_html(10, query="?status=failing&page=10")
    assert '<nav class="govuk-pagination" aria-label="Pagination">' in html
    assert 'href="?status=failing&amp;page=9" rel="prev"' in html
    assert 'href="?status=failing&amp;page=11" rel="next"' in html
    assert (
        'href="?status=failing&amp;page=10" aria-label="Page 10" aria-current="page">10</a>' in html
    )
    assert 'aria-label="Page 1">1</a>' in html and 'aria-label="Page 20">20</a>' in html
    assert 'aria-label="Page 5"' not in html
    assert html.count("govuk-pagination__item--ellipses") == 2


def test_pagination_on_the_first_page_has_no_previous_link():
    html = pagination_html(1)
    assert 'rel="prev"' not in html
    assert 'href="?page=2" rel="next"' in html


@pytest.mark.parametrize(
    "value",
    [
        datetime.date(2010, 3, 3),
        datetime.date(2024, 12, 31),
        # 23:30 UTC on 30 June is 1 July in London: a moment is written in local time.
        datetime.datetime(2024, 6, 30, 23, 30, tzinfo=datetime.UTC),
        None,
        "",
    ],
)
def test_the_date_filters_write_what_the_date_filter_writes(value):
    ours = render("{{ value|short_date }}/{{ value|long_date }}", value=value)
    djangos = Template('{{ value|date:"j M Y" }}/{{ value|date:"j F Y" }}').render(
        Context({"value": value})
    )
    assert ours == djangos
