"""Pages of the mailing list: subscribe, confirm, leave. None needs an account."""

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from hub.community import mailing


class SubscribeForm(forms.Form):
    email = forms.EmailField(label="Your email address", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))


def subscribe(request):
    form = SubscribeForm(request.POST or None)
    context = {"form": form, "days": mailing.CONFIRM_WITHIN.days}
    if request.method == "POST":
        if form.is_valid():
            try:
                mailing.subscribe(form.cleaned_data["email"])
            except ValidationError as error:
                form.add_error("email", error.message_dict.get("email"))
            else:
                return render(request, "community/mailing/check_inbox.html", {
                    "email": mailing.normalise(form.cleaned_data["email"]), **context})
        return render(request, "community/mailing/subscribe.html", context, status=400)
    return render(request, "community/mailing/subscribe.html", context)


@never_cache
def subscription_confirm(request, token):
    # Opening the link only asks; the button confirms, so a mail scanner that follows every
    # link cannot subscribe anyone.
    try:
        if request.method == "POST":
            email, done = mailing.confirm(token).email, True
        else:
            email, done = mailing.confirm_check(token), False
    except mailing.LinkError as error:
        return render(request, "community/mailing/confirm.html",
                      {"problem": error.message}, status=410 if error.state == "expired"
                      else 404)
    return render(request, "community/mailing/confirm.html", {"email": email, "done": done})


@never_cache
@csrf_exempt  # RFC 8058: mail programs POST "List-Unsubscribe=One-Click" with no session
def unsubscribe(request, token):
    try:
        email = mailing.unsubscribe_check(token)
        if request.method == "POST":
            mailing.unsubscribe(token)
    except mailing.LinkError as error:
        return render(request, "community/mailing/unsubscribe.html",
                      {"problem": error.message}, status=404)
    return render(request, "community/mailing/unsubscribe.html",
                  {"email": email, "done": request.method == "POST"})
