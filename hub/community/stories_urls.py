"""Addresses of success stories and funding opportunities."""

from django.urls import path

from hub.community import stories_feeds, stories_views

urlpatterns: list = [
    path("stories/", stories_views.story_list, name="story_list"),
    path("stories/feed/", stories_feeds.PublicStoriesFeed(), name="story_feed"),
    path("stories/new/", stories_views.story_new, name="story_new"),
    path("stories/mine/", stories_views.story_mine, name="story_mine"),
    path("stories/<slug:slug>/", stories_views.story_detail, name="story_detail"),
    path("stories/<slug:slug>/edit/", stories_views.story_edit, name="story_edit"),
    path("stories/<slug:slug>/withdraw/", stories_views.story_withdraw, name="story_withdraw"),
    path("funding/", stories_views.funding_list, name="funding_list"),
    path("funding/feed/", stories_feeds.PublicFundingFeed(), name="funding_feed"),
    path("funding/new/", stories_views.funding_new, name="funding_new"),
    path("funding/following/", stories_views.funding_following, name="funding_following"),
    path("funding/<slug:slug>/", stories_views.funding_detail, name="funding_detail"),
    path("funding/<slug:slug>/edit/", stories_views.funding_edit, name="funding_edit"),
    path("funding/<slug:slug>/withdraw/", stories_views.funding_withdraw,
         name="funding_withdraw"),
    path("funding/<slug:slug>/follow/", stories_views.funding_follow, name="funding_follow"),
]
