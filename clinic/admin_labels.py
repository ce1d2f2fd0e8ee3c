"""Names for the admin's form controls that sit in table cells.

A tabular inline (a practitioner's working hours, a treatment's questions) and
an editable list column (the FAQs' order) put each box under a column heading
with no <label>: a screen reader on the box hears no name (WCAG 1.3.1 and
4.1.2; axe: label, select-name). Each such box is named with its column's own
words, so what is heard is what is seen (2.5.3). A split date and time labels
its two boxes itself (templates/admin/widgets/split_datetime.html).
"""

from django import forms
from django.contrib import admin
from django.utils.text import capfirst


def cells_named(form: forms.BaseForm) -> None:
    """Give each visible control of `form` its field's label as aria-label."""
    for field in form.fields.values():
        widget = field.widget
        if widget.is_hidden or isinstance(widget, forms.MultiWidget):
            continue
        widget.attrs.setdefault("aria-label", capfirst(field.label))


class NamedCellsInlineFormSet(forms.BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)  # adds DELETE ("Delete") and the order, if any
        cells_named(form)


class NamedCellsModelFormSet(forms.BaseModelFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        cells_named(form)


class TabularInline(admin.TabularInline):
    """admin.TabularInline whose boxes are named after their columns."""

    formset = NamedCellsInlineFormSet


class EditableListAdmin(admin.ModelAdmin):
    """A ModelAdmin with list_editable whose boxes in the list are named after their columns."""

    def get_changelist_formset(self, request, **kwargs):
        return super().get_changelist_formset(request, formset=NamedCellsModelFormSet, **kwargs)
