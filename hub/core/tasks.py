import logging
from datetime import timedelta

from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django_tasks import task

from hub.core.models import OutgoingEmail

logger = logging.getLogger(__name__)

# Functions that make sure a recurring task is waiting in the queue. Each app registers its
# own with ``@recurring`` (the weekly digest, say); ``serve`` calls them all when it starts.
RECURRING = []


def recurring(ensure):
    RECURRING.append(ensure)
    return ensure


@task()
def email_send(*, email_id: int) -> None:
    """Send one queued message, outside the request that asked for it, then forget it.

    A mail server that is down gets several more tries, further apart each time; after the
    last the message is dropped and the failure logged (without its content).
    """
    email = OutgoingEmail.objects.filter(pk=email_id).first()
    if email is None:  # already sent by an earlier attempt
        return
    message = EmailMultiAlternatives(subject=email.subject, body=email.body,
                                     from_email=email.from_email or None, to=email.to,
                                     headers=email.headers or None)
    if email.html:
        message.attach_alternative(email.html, "text/html")
    for item in email.attachments or []:
        message.attach(item["filename"], item["content"], item["mimetype"])
    try:
        message.send()
    except Exception:
        email.attempts += 1
        if email.attempts >= OutgoingEmail.MAX_ATTEMPTS:
            logger.exception("Gave up sending message %s after %s attempts", email.pk,
                             email.attempts)
            email.delete()
            return
        email.save(update_fields=["attempts"])
        delay = timedelta(minutes=2 ** email.attempts)
        email_send.using(run_after=timezone.now() + delay).enqueue(email_id=email.pk)
        logger.warning("Sending message %s failed; trying again in %s", email.pk, delay)
        return
    email.delete()
