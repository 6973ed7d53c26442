"""The staff screens' form field: `{% load forms %}{% form_field form.amount %}` renders its label,
help text and errors the same way on every screen."""

from django import template
from django.forms import BoundField
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def form_field(field: BoundField) -> SafeString:
    """Render a form field with its label, help text and errors, as the staff screens show them:
    radio buttons and check boxes of a list in a fieldset, a checkbox inside its label, anything
    else under its label.

    Written in Python rather than as an included template: the case page shows some twenty
    fields, and an include per field was a sixth of its time (bench/cases.py).
    """
    help_id = f"{field.auto_id}_helptext"
    help_text = (
        format_html('<span class="helptext" id="{}">{}</span>', help_id, field.help_text)
        if field.help_text
        else ""
    )
    errors = format_html_join("", '<span class="errorlist">{}</span>', ((e,) for e in field.errors))
    error_class = " has-error" if field.errors else ""
    if field.widget_type in ("radioselect", "checkboxselectmultiple"):
        described = format_html(' aria-describedby="{}"', help_id) if field.help_text else ""
        choices = format_html_join(
            "",
            '<li><label for="{}">{} {}</label></li>',
            ((choice.id_for_label, choice.tag(), choice.choice_label) for choice in field),
        )
        # The id is the error summary's link target: the choices' own ids end in _0, _1, ...
        return format_html(
            '<fieldset id="{}" class="field choices-field{}"{}>\n  <legend>{}</legend>\n'
            '  <ul class="choices">{}</ul>\n  {}{}\n</fieldset>',
            field.auto_id,
            error_class,
            described,
            field.label,
            choices,
            help_text,
            errors,
        )
    if field.widget_type == "checkbox":
        return format_html(
            '<div class="field check{}">\n  <label for="{}">{} {}</label>\n  {}{}\n</div>',
            error_class,
            field.id_for_label,
            field,
            field.label,
            help_text,
            errors,
        )
    return format_html(
        '<div class="field{}">\n  <label for="{}">{}</label>\n  {}\n  {}{}\n</div>',
        error_class,
        field.id_for_label,
        field.label,
        field,
        help_text,
        errors,
    )
