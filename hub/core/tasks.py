from django.core.mail import EmailMultiAlternatives
from django_tasks import task

from hub.core.models import OutgoingEmail


@task()
def email_send(*, email_id: int) -> None:
    """Send one queued message, outside the request that asked for it, then forget it."""
    email = OutgoingEmail.objects.filter(pk=email_id).first()
    if email is None:  # already sent by an earlier attempt
        return
    message = EmailMultiAlternatives(subject=email.subject, body=email.body,
                                     from_email=email.from_email or None, to=email.to)
    if email.html:
        message.attach_alternative(email.html, "text/html")
    message.send()
    email.delete()
