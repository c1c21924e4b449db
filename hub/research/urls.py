from hub.research import agreement_urls, coding_urls, exchange_urls, study_urls

app_name = "research"

# Studies, teams, participants and sources; codebook, coding and analysis; agreement between
# coders; exchange with other tools.
urlpatterns = (study_urls.urlpatterns + coding_urls.urlpatterns
               + agreement_urls.urlpatterns + exchange_urls.urlpatterns)
