from django.conf import settings
from django.core.checks import Error, Tags, register

NOT_DELIVERED = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}


@register(Tags.security, deploy=True)
def mail_is_delivered(app_configs, **kwargs):
    """A deployment must deliver mail: confirmation and reset links must not go to a log."""
    if settings.SECURE and settings.EMAIL_BACKEND in NOT_DELIVERED:
        return [Error(
            "HUB_SECURE is on but mail is not delivered anywhere "
            f"(HUB_EMAIL_BACKEND={settings.EMAIL_BACKEND}).",
            hint="Set HUB_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and the "
                 "HUB_EMAIL_* settings.",
            id="hub.E001")]
    return []
