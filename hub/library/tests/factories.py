import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from hub.library import search
from hub.library.models import AccessRule, Resource, ResourceFile, Tier
from hub.members.tests.factories import OrganisationFactory, UserFactory


class ResourceFactory(factory.django.DjangoModelFactory):
    """A published public resource unless told otherwise, kept in the search index."""

    class Meta:
        model = Resource
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Resource number {n}")
    abstract = "A short description of what the resource covers."
    authors = "A. Author\nB. Writer"
    year = 2024
    country = "GB"
    language = "en"
    type = Resource.Type.REPORT
    organisation = factory.SubFactory(OrganisationFactory)
    contributor = factory.SubFactory(UserFactory)
    metadata_tier = Tier.PUBLIC
    file_tier = Tier.PUBLIC
    status = Resource.Status.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def rule(self, create, extracted, **kwargs):
        if create:
            AccessRule.objects.get_or_create(resource=self)

    @factory.post_generation
    def indexed(self, create, extracted, **kwargs):
        if create:
            search.index_resource(self.pk)


def add_text_file(resource, text="Body text of the file.", name="report.txt", **fields):
    """A stored file whose text is already extracted, with the resource indexed again."""
    item = ResourceFile(resource=resource, original_name=name, kind=fields.pop("kind", "text"),
                        mime=fields.pop("mime", "text/plain; charset=utf-8"),
                        size=len(text.encode()), sha256="0" * 64, text=text,
                        extraction=ResourceFile.Extraction.DONE, **fields)
    item.file.save("upload", ContentFile(text.encode()), save=False)
    item.save()
    search.index_resource(resource.pk)
    return item
