"""Request guards that apply to every view."""

from django.http import HttpResponseBadRequest


class RejectNullCharactersMiddleware:
    """A NUL character in a query string or form field is never real input.

    PostgreSQL refuses NUL in text, so a value used in a lookup would raise a
    500 deep in a view; answer 400 at the door instead. Forms already refuse it
    (ProhibitNullCharactersValidator); this covers values read directly.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sources = [request.GET, request.POST] if request.method == "POST" else [request.GET]
        for values in sources:
            for key, items in values.lists():
                if "\x00" in key or any("\x00" in item for item in items):
                    return HttpResponseBadRequest("Bad request: a field held a NUL character.")
        return self.get_response(request)
