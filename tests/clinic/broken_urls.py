"""The site's URLs plus one view that fails as a template can: for the 500 log test."""

from django.http import HttpResponse
from django.template import RequestContext, Template
from django.urls import path

from clinic.urls import urlpatterns as site_urlpatterns


def broken(request, key):
    """A filter argument that is missing raises, as allauth's form element once did."""
    template = Template("{{ request.user.email }} {% csrf_token %} {{ key|default:no_such_name }}")
    context = RequestContext(request, {"key": key, "patient_name": request.GET.get("name", "")})
    return HttpResponse(template.render(context))


urlpatterns = [path("broken/<str:key>/", broken), *site_urlpatterns]
