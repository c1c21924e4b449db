"""Uploaded files in S3-compatible object storage, against a real S3 server.

moto's standalone server runs in its own process on a free port of 127.0.0.1 and the hub
talks to it over HTTP exactly as it would to AWS, MinIO or Garage: nothing is patched inside
this process. Each test gets its own empty bucket, configured through the same function the
settings use when ``HUB_S3_BUCKET`` is set.
"""

import hashlib
import io
import json
import os
import re
import secrets
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import boto3
import docx
import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse

from hub import settings as hub_settings
from hub.core.backup import BackupError, make_backup, restore_backup
from hub.library import services
from hub.library.models import Resource, ResourceFile, Tier
from hub.library.tasks import extract_file
from hub.library.tests.factories import ResourceFactory, add_text_file
from hub.members.models import Membership
from hub.members.tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
ENGINE = django_settings.DATABASES["default"]["ENGINE"]
PREFIX = "hub-files"
KEYS = {"aws_access_key_id": "hub-test", "aws_secret_access_key": "hub-test-secret"}


# --- The server and a bucket for each test --------------------------------------------------

@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server in a child process; it binds port 0 and prints the port it got."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HUB_"))}
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    endpoint, seen = None, []
    for line in server.stderr:  # ends if the server exits before it listens
        seen.append(line)
        if match := re.search(r"Running on (http://127\.0\.0\.1:\d+)", line):
            endpoint = match.group(1)
            break
    if endpoint is None:
        server.kill()
        server.wait()
        pytest.fail("moto's S3 server did not start: " + "".join(seen))
    # The server logs every request: keep reading so its pipe never fills.
    threading.Thread(target=server.stderr.read, daemon=True).start()
    yield endpoint
    server.terminate()
    server.wait(timeout=30)


@dataclass
class Bucket:
    client: object
    name: str

    def objects(self) -> dict[str, str]:
        """Every object's key and the sha256 of its bytes."""
        found = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name):
            for item in page.get("Contents", []):
                body = self.client.get_object(Bucket=self.name, Key=item["Key"])["Body"].read()
                found[item["Key"]] = hashlib.sha256(body).hexdigest()
        return found

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture
def s3_client(s3_endpoint):
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS)


@pytest.fixture
def use_bucket(s3_endpoint, s3_client, settings, monkeypatch):
    """Make a new empty bucket and point the default storage at it, as the settings would
    with these HUB_S3_* variables. Changing STORAGES makes Django drop its cached storages."""
    monkeypatch.setenv("HUB_S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("HUB_S3_REGION", "us-east-1")
    monkeypatch.setenv("HUB_S3_ACCESS_KEY_ID", KEYS["aws_access_key_id"])
    monkeypatch.setenv("HUB_S3_SECRET_ACCESS_KEY", KEYS["aws_secret_access_key"])
    monkeypatch.setenv("HUB_S3_PREFIX", PREFIX)
    monkeypatch.setenv("HUB_S3_SSE", "AES256")

    def switch() -> Bucket:
        name = f"hub-test-{secrets.token_hex(6)}"
        s3_client.create_bucket(Bucket=name)
        settings.STORAGES = {**settings.STORAGES, "default": hub_settings._s3_storage(name)}
        return Bucket(s3_client, name)

    return switch


@pytest.fixture
def bucket(use_bucket) -> Bucket:
    return use_bucket()


# --- People and a resource ------------------------------------------------------------------

@pytest.fixture
def org(db):
    return OrganisationFactory(name="Alpha Forum", slug="alpha", is_partner=True)


@pytest.fixture
def contributor(org):
    return MembershipFactory(organisation=org).user


@pytest.fixture
def resource(org, contributor):
    """A draft whose description is public and whose files partner members may open."""
    return services.resource_create(
        actor=contributor, organisation=org, title="Street conversations",
        abstract="What residents said.", type="report", metadata_tier=Tier.PUBLIC,
        file_tier=Tier.PARTNERS)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client, resource, name: str, data: bytes):
    response = client.post(reverse("library:file_add", args=[resource.pk]),
                           {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return ResourceFile.objects.filter(resource=resource).latest("pk")


def docx_bytes(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def close_stream(response) -> None:
    """Close a streamed download's file, as the server would once it is sent, without the
    end-of-request signal that would close the test's database connection (Django's test
    client holds that signal back in the same way)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def local_files() -> list[Path]:
    root = Path(django_settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


# --- Library files --------------------------------------------------------------------------

def test_upload_goes_to_the_bucket_and_is_streamed_only_to_permitted_readers(
        bucket, org, contributor, resource):
    """An upload through the page becomes one private, encrypted object under the prefix and no
    local file; a partner member downloads the same bytes through the hub, others get 404."""
    data = b"Residents met officers weekly at the library.\n" * 50
    item = upload(signed_in(contributor), resource, "minutes.txt", data)

    key = f"{PREFIX}/{item.file.name}"
    assert bucket.objects() == {key: hashlib.sha256(data).hexdigest()}
    assert local_files() == []
    head = bucket.client.head_object(Bucket=bucket.name, Key=key)
    assert head["ServerSideEncryption"] == "AES256"
    grants = bucket.client.get_object_acl(Bucket=bucket.name, Key=key)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert grants[0]["Grantee"]["Type"] == "CanonicalUser", "no public or group grant"
    assert "/files-not-served-directly/" not in signed_in(contributor).get(
        reverse("library:edit", args=[resource.pk])).content.decode()

    services.resource_submit(resource=resource, actor=contributor)
    editor = MembershipFactory(organisation=org, role=Membership.Role.EDITOR).user
    services.resource_publish(resource=resource, actor=editor)
    url = reverse("library:download", args=[resource.pk, item.pk])

    partner = MembershipFactory(organisation=OrganisationFactory(is_partner=True)).user
    response = signed_in(partner).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Cache-Control"] == "private, no-store"
    close_stream(response)

    outsider = UserFactory()  # a member of the hub, in no partner organisation
    assert signed_in(outsider).get(url).status_code == 404
    assert Client().get(url).status_code == 404


def test_text_extraction_reads_a_file_kept_in_the_bucket(bucket, contributor, resource):
    """The extraction task reads the object's bytes and hands them to the sandboxed child."""
    item = upload(signed_in(contributor), resource, "plan.docx",
                  docx_bytes("The plan mentions quillfeather partnerships."))
    assert item.extraction == ResourceFile.Extraction.PENDING
    extract_file.call(file_id=item.pk)
    item.refresh_from_db()
    assert item.extraction == ResourceFile.Extraction.DONE, item.extraction_message
    assert "quillfeather" in item.text


def test_removing_a_file_deletes_its_object(bucket, contributor, resource,
                                            django_capture_on_commit_callbacks):
    """Removing a file from a resource removes its object from the bucket once committed."""
    client = signed_in(contributor)
    kept = upload(client, resource, "kept.txt", b"This one stays.")
    gone = upload(client, resource, "gone.txt", b"This one goes.")
    assert len(bucket.objects()) == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("library:file_action", args=[resource.pk, gone.pk]),
                               {"action": "remove"})
    assert response.status_code == 302
    assert list(bucket.objects()) == [f"{PREFIX}/{kept.file.name}"]
    assert not default_storage.exists(gone.file.name)


# --- Backups --------------------------------------------------------------------------------

@pytest.mark.skipif("sqlite" not in ENGINE, reason="SQLite drill")
@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_round_trip_through_the_bucket(use_bucket, tmp_path):
    """A backup holds every object of the bucket; restored into an empty bucket, every object
    comes back under the same key with the same sha256, and a non-empty bucket is refused."""
    original = use_bucket()
    organisation = OrganisationFactory(is_partner=True)
    contributor = MembershipFactory(organisation=organisation).user
    resource = ResourceFactory(organisation=organisation, contributor=contributor,
                               status=Resource.Status.DRAFT, published_at=None)
    add_text_file(resource, text="Minutes of the partnership meeting.")
    add_text_file(resource, text="Ünïcode notes, repeated. " * 2000, name="notes.txt")
    services.file_add(resource=resource, actor=contributor,
                      upload=SimpleUploadedFile("plan.docx", docx_bytes("A plan.")))
    stored = original.objects()
    assert len(stored) == 3

    archive = tmp_path / "hub.tar.gz"
    manifest = make_backup(archive)
    assert {f"{PREFIX}/{entry.name.removeprefix('files/')}": entry.sha256
            for entry in manifest.files} == stored

    restored = use_bucket()
    report = restore_backup(archive, tmp_path / "restored")
    assert restored.objects() == stored
    assert report.problems == [] and report.missing == [] and report.orphans == []
    assert report.files == 3
    assert (tmp_path / "restored" / "hub.sqlite3").is_file()
    assert not (tmp_path / "restored" / "files").exists(), "files went to the bucket"
    assert local_files() == []

    with pytest.raises(BackupError, match="already holds files"):
        restore_backup(archive, tmp_path / "again")
    assert restored.objects() == stored


# --- Settings -------------------------------------------------------------------------------

def _settings_process(*args, env_extra: dict, data_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "AWS_"))
           and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({"HUB_DATA_DIR": str(data_dir), **env_extra})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


DESCRIBE = """
import json
from django.core.files.storage import default_storage as s
print(json.dumps({"class": f"{s.__class__.__module__}.{s.__class__.__name__}",
                  "bucket": s.bucket_name, "location": s.location, "acl": s.default_acl,
                  "querystring_auth": s.querystring_auth, "overwrite": s.file_overwrite,
                  "endpoint": s.endpoint_url, "region": s.region_name,
                  "access_key": s.access_key, "object_parameters": s.object_parameters}))
"""


def test_settings_with_a_bucket_use_private_s3_storage(tmp_path):
    """With HUB_S3_BUCKET set, fresh processes get S3Storage with private, never-overwritten
    objects from the HUB_S3_* variables, and the deployment checklist still passes."""
    s3 = {"HUB_S3_BUCKET": "hub-files", "HUB_S3_ENDPOINT_URL": "https://s3.example.org",
          "HUB_S3_REGION": "eu-west-2", "HUB_S3_PREFIX": "hub", "HUB_S3_SSE": "AES256",
          "HUB_S3_ACCESS_KEY_ID": "key-id", "HUB_S3_SECRET_ACCESS_KEY": "secret"}
    result = _settings_process("shell", "-c", DESCRIBE, env_extra=s3, data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "class": "storages.backends.s3.S3Storage", "bucket": "hub-files", "location": "hub",
        "acl": "private", "querystring_auth": True, "overwrite": False,
        "endpoint": "https://s3.example.org", "region": "eu-west-2", "access_key": "key-id",
        "object_parameters": {"ServerSideEncryption": "AES256"}}

    result = _settings_process(
        "check", "--deploy", "--fail-level", "WARNING", data_dir=tmp_path, env_extra={
            **s3, "HUB_SECURE": "true", "HUB_ALLOWED_HOSTS": "hub.example.org",
            "HUB_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "HUB_SECRET_KEY": "k" * 20 + "Q7-x_vZ2pL9mN4bR8tY1wE6uI3oP0aS5"})
    assert result.returncode == 0, result.stdout + result.stderr
