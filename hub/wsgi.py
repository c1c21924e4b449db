import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
application = get_wsgi_application()

# Load the modules that reports draw with now, then set aside everything loaded so far: the
# garbage collector's full passes then skip these long-lived objects, instead of walking them
# all again in the middle of some request.
import hub.assessment.charts  # noqa: E402, F401

gc.freeze()
