"""Addresses of the ideas board."""

from django.urls import path

from hub.community import ideas_views as views

urlpatterns = [
    path("ideas/", views.idea_list, name="idea_list"),
    path("ideas/new/", views.idea_new, name="idea_new"),
    path("ideas/<int:pk>/", views.idea_detail, name="idea_detail"),
    path("ideas/<int:pk>/edit/", views.idea_edit, name="idea_edit"),
    path("ideas/<int:pk>/support/", views.idea_support, name="idea_support"),
    path("ideas/<int:pk>/support/withdraw/", views.idea_support_withdraw,
         name="idea_support_withdraw"),
    path("ideas/<int:pk>/comments/", views.idea_comment, name="idea_comment"),
    path("ideas/<int:pk>/status/", views.idea_status, name="idea_status"),
    path("ideas/comments/<int:pk>/delete/", views.idea_comment_delete,
         name="idea_comment_delete"),
    path("ideas/comments/<int:pk>/remove/", views.idea_comment_remove,
         name="idea_comment_remove"),
]
