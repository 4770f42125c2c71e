"""Post an admin form as a person would: what the page shows, with a few changes."""

from django.forms import BaseForm, MultiWidget


def _form_values(form: BaseForm) -> dict:
    data = {}
    for bound in form:
        value = bound.value()
        if value is None:
            continue
        widget = bound.field.widget
        if isinstance(widget, MultiWidget):
            parts = value if isinstance(value, (list, tuple)) else widget.decompress(value)
            for suffix, part in zip(widget.widgets_names, parts, strict=True):
                if part is not None:
                    data[bound.html_name + suffix] = str(part)
        elif isinstance(value, (list, tuple)):
            data[bound.html_name] = [str(item) for item in value]
        elif isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
        else:
            data[bound.html_name] = str(value)
    return data


def admin_form_data(client, url: str, **changes) -> dict:
    """The data the admin's add or change page at `url` would post unchanged, with
    `changes` applied (field names as posted, e.g. "judgements-0-grade")."""
    response = client.get(url)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    data = _form_values(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_form_values(formset.management_form))
        for form in formset.forms:
            data.update(_form_values(form))
    data.update({key: str(value) for key, value in changes.items()})
    return data
