from django.contrib import admin
from django.urls import include, path

# Django tries the patterns in order on every request, so the areas with a prefix of their own
# come before the members' addresses, which have none. The members' "accounts/signup/" must
# still come before allauth's "accounts/", and the research landing page (in core) before the
# research app.
urlpatterns = [
    path("", include("hub.core.urls")),
    path("library/", include("hub.library.urls")),
    path("assessment/", include("hub.assessment.urls")),
    path("community/", include("hub.community.urls")),
    path("research/", include("hub.research.urls")),
    path("", include("hub.members.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "hub.core.views.bad_request"
handler403 = "hub.core.views.permission_denied"
handler404 = "hub.core.views.page_not_found"
handler500 = "hub.core.views.server_error"
