"""Metadata others can use: citations, the feed of new public items and OAI-PMH."""

from django.contrib.syndication.views import Feed
from django.http import Http404


def cite(request, pk, fmt):
    raise Http404


def export(request, fmt):
    raise Http404


class NewPublicResources(Feed):
    title = "New in the library"
    link = "/library/"

    def items(self):
        return []


def oai(request):
    raise Http404
