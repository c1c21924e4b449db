from allauth.account.adapter import DefaultAccountAdapter

from hub.core.services import email_queue


class HubAccountAdapter(DefaultAccountAdapter):
    """allauth, with its mail sent by the background worker rather than inside the request."""

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        html = next((body for body, mime in getattr(message, "alternatives", [])
                     if mime == "text/html"), None)
        email_queue(subject=message.subject, body=message.body, to=list(message.to),
                    from_email=message.from_email, html=html or "")
