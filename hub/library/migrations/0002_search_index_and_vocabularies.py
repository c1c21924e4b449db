from django.db import migrations

THEMES = [
    ("accountability", "Accountability", True),
    ("relationships", "Relationships", True),
    ("intelligence", "Intelligence", True),
    ("partnership", "Partnership", True),
    ("risk", "Risk", True),
    ("trust", "Trust", True),
    ("youth", "Youth", False),
    ("multi-agency", "Multi-agency work", False),
    ("media", "Media", False),
    ("faith", "Faith", False),
    ("intervention", "Intervention", False),
    ("evaluation", "Evaluation", False),
]

AUDIENCES = [
    ("police", "Police"),
    ("community", "Community organisations"),
    ("research", "Researchers"),
    ("practice", "Youth and community workers"),
    ("statutory", "Local authorities and statutory partners"),
    ("policy", "Policy makers"),
    ("public", "The public"),
]


def seed(apps, schema_editor):
    Theme = apps.get_model("library", "Theme")
    Audience = apps.get_model("library", "Audience")
    for position, (slug, name, aspect) in enumerate(THEMES):
        Theme.objects.update_or_create(
            slug=slug, defaults={"name": name, "is_aspect": aspect, "position": position})
    for position, (slug, name) in enumerate(AUDIENCES):
        Audience.objects.update_or_create(slug=slug, defaults={"name": name, "position": position})


def create_index(apps, schema_editor):
    from hub.library.search import engine_for

    with schema_editor.connection.cursor() as cursor:
        engine_for(schema_editor.connection.vendor).create(cursor)


def drop_index(apps, schema_editor):
    from hub.library.search import engine_for

    with schema_editor.connection.cursor() as cursor:
        engine_for(schema_editor.connection.vendor).drop(cursor)


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(create_index, drop_index),
    ]
