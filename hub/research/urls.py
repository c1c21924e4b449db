from hub.research import coding_urls, study_urls

app_name = "research"

# Studies, teams, participants and sources; then codebook, coding and analysis.
urlpatterns = study_urls.urlpatterns + coding_urls.urlpatterns
