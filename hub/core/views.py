from django.db import connection
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache


def home(request):
    return render(request, "core/home.html")


def your_data(request):
    return render(request, "core/your_data.html")


def research(request):
    """What the research workspace is, for everyone; the way in, for members."""
    from hub import policy

    return render(request, "core/research.html",
                  {"can_start": policy.can_create_study(request.user)})


@never_cache
def healthz(request):
    """For load balancers: the process answers and can reach its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@never_cache
def ping(request):
    """The least a request can cost: no database, no session. The load benchmark's yardstick."""
    return HttpResponse("ok", content_type="text/plain")


def bad_request(request, exception=None):
    return render(request, "errors/400.html", status=400)


def permission_denied(request, exception=None):
    # A forbidden page answers like a missing one, so it does not confirm what exists.
    return render(request, "errors/404.html", status=404)


def csrf_failure(request, reason=""):
    return render(request, "errors/csrf.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    # Rendered without a request context: the error may have come from the context itself.
    return HttpResponseServerError(loader.get_template("errors/500.html").render())
