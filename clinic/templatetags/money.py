"""`{{ amount|money }}` and `{{ amount|money:course.currency }}`: an amount with its currency."""

from django import template

from clinic import money as prices

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    if amount is None or amount == "":
        return ""
    return prices.money(amount, currency or None)
