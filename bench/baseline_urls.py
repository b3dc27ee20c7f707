"""The decision benchmark's baseline: a bare JSON view (no authentication, no parsing, no engine), routed
before the project's URLs. The ratio of decisions to it is what a decision costs beyond the request."""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

_BODY = b'{"filled":false,"reason":"baseline"}'


@csrf_exempt
def baseline(request):
    return HttpResponse(_BODY, content_type="application/json")


urlpatterns = [
    path("api/v1/bench/baseline", baseline, name="bench-baseline"),
    path("", include("adplatform.project.urls")),
]
