from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from hub import policy
from hub.community import caching, ics, selectors, services
from hub.community.forms import EventForm, FollowupForm, RegisterForm
from hub.community.models import CalendarFeed, Event, Registration, token_hash
from hub.core import fragments
from hub.core.forms import errors_to_form

PAGE_SIZE = 20
# The format filter's options, worked out once: an enum builds its choices afresh each time.
FORMATS = Event.Format.choices
FORMAT_VALUES = frozenset(value for value, _ in FORMATS)


def home(request):
    """The community area's front page: events for now.

    The page's content is rendered once for everyone who would see the same (the same
    audience, filters and page) and kept for a minute, or until an event changes; the page of
    results is only worked out when it is rendered.
    """
    user = request.user
    when = "past" if request.GET.get("when") == "past" else "upcoming"
    format_ = request.GET.get("format", "")
    format_ = format_ if format_ in FORMAT_VALUES else ""
    number = request.GET.get("page", "1")
    audience = policy.events_audience(user)
    can_organise = policy.can_organise_events(user)

    def page():
        events = selectors.event_list(user=user, when=when, format=format_)
        return Paginator(events, PAGE_SIZE).get_page(number)

    return render(request, "community/home.html", {
        "page": SimpleLazyObject(page),
        "when": when, "format": format_, "formats": FORMATS,
        "can_organise": can_organise,
        # Everything the content shows of the person, besides their audience, is in the key.
        "content_cache": audience and (audience, user.is_authenticated, can_organise, when,
                                       format_, number[:8], fragments.version(caching.EVENTS)),
        "fragment_seconds": fragments.FRAGMENT_SECONDS,
    })


def event_detail(request, slug):
    event = selectors.event_get(user=request.user, slug=slug)
    return _detail(request, event)


def _detail(request, event, *, register_form=None, status=200):
    user = request.user
    registration = selectors.registration_for(user=user, event=event)
    if registration and registration.status == Registration.Status.CANCELLED:
        registration = None
    return render(request, "community/event_detail.html", {
        "event": event,
        "agenda": event.agenda.all(),
        "manages": policy.can_manage_event(user, event),
        "can_register": policy.can_register_for_event(user, event),
        "registration_problem": event.registration_problem(),
        "registration": registration,
        "position": selectors.waiting_position(registration)
        if registration and registration.status == Registration.Status.WAITING else None,
        "show_link": policy.can_see_joining_link(user, event),
        "resources": selectors.visible_event_resources(user=user, event=event),
        "register_form": register_form or RegisterForm(),
        "places_left": None if event.capacity is None
        else max(event.capacity - event.confirmed_count, 0),
    }, status=status)


@login_required
def event_new(request):
    if not policy.can_organise_events(request.user):
        raise PermissionDenied
    form = EventForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        organisers = data.pop("organiser_emails")
        try:
            event = services.event_create(actor=request.user, organisers=organisers, **data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Event saved." if event.status == Event.Status.DRAFT
                             else "Event published.")
            return redirect(event)
    return render(request, "community/event_form.html", {"form": form, "event": None},
                  status=400 if form.errors else 200)


@login_required
def event_edit(request, slug):
    event = selectors.event_managed_get(user=request.user, slug=slug)
    form = EventForm(request.POST or None, instance=event, user=request.user,
                     agenda=services.agenda_text(event))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        organisers = data.pop("organiser_emails")
        try:
            services.event_update(actor=request.user, event=Event.objects.get(pk=event.pk),
                                  organisers=organisers, **data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("community:event_detail", event.slug)
    return render(request, "community/event_form.html", {"form": form, "event": event},
                  status=400 if form.errors else 200)


@login_required
def event_cancel(request, slug):
    event = selectors.event_managed_get(user=request.user, slug=slug)
    if request.method == "POST":
        try:
            told = services.event_cancel(actor=request.user, event=event)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"The event is cancelled. {told} registered "
                                      f"{'person was' if told == 1 else 'people were'} told.")
        return redirect("community:event_detail", event.slug)
    return render(request, "community/event_cancel.html", {"event": event})


@login_required
def event_registrations(request, slug):
    event = selectors.event_managed_get(user=request.user, slug=slug)
    lists = selectors.registrations_for_organisers(user=request.user, event=event)
    response = render(request, "community/event_registrations.html", {"event": event, **lists})
    return response


@login_required
def event_followup(request, slug):
    event = selectors.event_managed_get(user=request.user, slug=slug)
    form = FollowupForm(request.POST or None, user=request.user, initial={
        "notes": event.notes, "resources": list(event.resources.all())})
    if request.method == "POST" and form.is_valid():
        try:
            services.event_followup(actor=request.user, event=event, **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, "Notes and resources saved.")
            return redirect("community:event_detail", event.slug)
    return render(request, "community/event_followup.html", {"event": event, "form": form},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def register(request, slug):
    event = selectors.event_get(user=request.user, slug=slug)
    if not policy.can_register_for_event(request.user, event):
        raise Http404("No such event.")
    form = RegisterForm(request.POST)
    if not form.is_valid():
        return _detail(request, event, register_form=form, status=400)
    try:
        registration = services.registration_create(actor=request.user, event=event,
                                                     **form.cleaned_data)
    except ValidationError as error:
        errors_to_form(form, error)
        return _detail(request, event, register_form=form, status=400)
    if registration.status == Registration.Status.CONFIRMED:
        messages.success(request, "Your place is confirmed. We have emailed you the details "
                                  "with a calendar invitation.")
    else:
        messages.success(request, "The event is full, so you are on the waiting list. If a "
                                  "place comes up it is yours, and we will email you.")
    return redirect("community:event_detail", event.slug)


@login_required
@require_POST
def registration_cancel(request, slug):
    event = selectors.event_get(user=request.user, slug=slug)
    registration = selectors.registration_for(user=request.user, event=event)
    if registration is None:
        raise Http404("No such registration.")
    try:
        services.registration_cancel(actor=request.user, registration=registration)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Your registration is cancelled.")
    return redirect("community:event_detail", event.slug)


@login_required
def my_events(request):
    registrations = list(selectors.my_registrations(user=request.user))
    return render(request, "community/my_events.html", {
        "upcoming": [r for r in registrations if not r.event.is_past],
        "past": [r for r in registrations if r.event.is_past],
        "organising": policy.managed_events(request.user, Event.objects.all())
        .select_related("organisation").order_by("-starts_at")[:50],
    })


@login_required
def calendar(request):
    """See whether one has a calendar address, make a new one, or stop it."""
    if not policy.is_member(request.user):
        raise PermissionDenied
    address = None
    if request.method == "POST":
        if request.POST.get("action") == "stop":
            services.calendar_feed_stop(actor=request.user)
            messages.success(request, "Your calendar address no longer works.")
            return redirect("community:calendar")
        token = services.calendar_feed_reset(actor=request.user)
        address = request.build_absolute_uri(reverse("community:calendar_feed", args=[token]))
    feed = CalendarFeed.objects.filter(user=request.user).first()
    response = render(request, "community/calendar.html", {"feed": feed, "address": address})
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
def calendar_feed(request, token):
    """A person's confirmed events as a calendar. The token in the address is the
    credential, so no session is needed; an unknown token is a missing page."""
    feed = CalendarFeed.objects.select_related("user").filter(
        token_hash=token_hash(token)).first()
    if feed is None or not policy.is_member(feed.user):
        raise Http404("No such calendar.")
    body = ics.feed(selectors.feed_events(feed.user))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="events.ics"'
    response["Cache-Control"] = "private, no-store"
    return response
