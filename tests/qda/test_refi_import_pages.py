"""The REFI-QDA import pages: upload, preview, confirm, for a project (.qdpx, as a background
job when large) and for a codebook (.qdc); students refused; bad files refused with the reason
and nothing kept."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.annotations.models import Annotation, Status
from apps.claims.models import Concept
from apps.jobs.models import ImportJob, Job
from apps.jobs.uploads import upload_folder
from apps.library.models import Source
from apps.qda import views
from tests import factories
from tests.qda.test_refi_import import FIELD, G, codebook, selection, vendor_project, zipped


@pytest.fixture(autouse=True)
def uploads_in_a_temporary_folder(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


def archive() -> bytes:
    selections = selection(G["sel1"], "refused their prayers") + selection(
        G["sel2"], "Nobody followed them", coded=False
    )
    return zipped(
        {
            "project.qde": vendor_project(origin="QualCoder 3.5", selections=selections),
            "sources/doc.txt": FIELD,
        }
    )


def upload(client, data: bytes, name: str = "field.qdpx"):
    return client.post(
        reverse("qda:import", args=["review"]), {"file": SimpleUploadedFile(name, data)}
    )


def test_an_analyst_previews_then_imports_a_project_as_drafts(cast, client_for):
    client = client_for(cast.analyst)
    response = upload(client, archive())
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert response.url == reverse("qda:import_preview", args=["review", job.token])
    assert Annotation.objects.count() == 0 and Source.objects.count() == 0  # nothing yet
    page = client.get(response.url)
    text = page.content.decode()
    assert page.status_code == 200
    assert "2 selections in 1 text source" in text and "made by QualCoder 3.5" in text
    assert "<strong>2</strong> exact" in text and "refused their prayers" in text
    assert "Field report" in text  # the new source
    done = client.post(response.url)
    assert done.status_code == 302
    assert done.url == reverse("annotations:annotation_list", args=["review"]) + "?status=draft"
    rows = Annotation.objects.order_by("start")
    assert [(a.quote, a.status, a.author) for a in rows] == [
        ("refused their prayers", Status.DRAFT, cast.analyst),
        ("Nobody followed them", Status.DRAFT, cast.analyst),
    ]
    assert list(upload_folder().iterdir()) == []  # the upload is gone once imported
    again = client.post(response.url)
    assert again.status_code == 200 and "Imported 2 passages as drafts" in again.content.decode()
    assert Annotation.objects.count() == 2
    # The annotation page says where it came from.
    detail = client.get(rows[0].get_absolute_url()).content.decode()
    assert "QualCoder 3.5" in detail and "field.qdpx" in detail


def test_a_large_archive_is_imported_by_a_background_job(cast, client_for, monkeypatch):
    monkeypatch.setattr(views, "JOB_ABOVE", 1)
    client = client_for(cast.analyst)
    preview = upload(client, archive()).url
    assert "Import in the background" in client.get(preview).content.decode()
    response = client.post(preview)
    job = Job.objects.get(kind="qda.import")
    assert response.url == reverse("jobs:job_detail", args=["review", job.token])
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    assert "2 passages as drafts" in job.summary
    assert Annotation.objects.filter(author=cast.analyst).count() == 2


def test_the_preview_reads_the_upload_once_whatever_its_size(
    cast, client_for, django_assert_num_queries
):
    client = client_for(cast.analyst)
    url = upload(client, archive()).url
    # session and user, membership, the upload
    with django_assert_num_queries(4):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"plain words", "neither a REFI-QDA project"),
        (zipped({"a.txt": "x"}), "no project file"),
        (zipped({"project.qde": "<Project/>", "../../x": "y"}), "outside itself"),
    ],
)
def test_a_bad_file_is_refused_with_the_reason_and_nothing_kept(cast, client_for, data, message):
    response = upload(client_for(cast.analyst), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ImportJob.objects.count() == 0 and Annotation.objects.count() == 0
    assert not upload_folder().exists() or list(upload_folder().iterdir()) == []


def test_students_cannot_import_and_others_cannot_see_an_upload(cast, client_for):
    assert upload(client_for(cast.student), archive()).status_code == 403
    assert ImportJob.objects.count() == 0
    preview = upload(client_for(cast.analyst), archive()).url
    assert client_for(cast.analyst2).get(preview).status_code == 404
    assert client_for(cast.analyst2).post(preview).status_code == 404
    assert client_for(cast.outsider).get(preview).status_code == 404
    assert client_for(cast.analyst).put(preview).status_code == 405
    assert Annotation.objects.count() == 0


def test_a_codebook_is_previewed_then_imported_taking_the_files_definitions(cast, client_for):
    factories.make_concept(cast.project, "Isolation", definition="Withdrawal.")
    client = client_for(cast.analyst)
    preview = upload(client, codebook(), "codes.qdc").url
    text = client.get(preview).content.decode()
    assert "<strong>3 new</strong>" in text and "<strong>1 different from one here</strong>" in text
    assert "For concepts that differ" in text
    response = client.post(preview, {"take_theirs": "on"})
    assert response.url == reverse("claims:concept_list", args=["review"])
    assert Concept.objects.get(name="Isolation").definition == "Keeping apart from society."
    assert Concept.objects.filter(project=cast.project).count() == 4


def test_the_import_pages_are_linked_from_the_bibliography_import_and_the_export(
    cast, client_for
):
    client = client_for(cast.analyst)
    url = reverse("qda:import", args=["review"])
    assert url in client.get(reverse("bibliography:import", args=["review"])).content.decode()
    assert url in client.get(reverse("bibliography:export", args=["review"])).content.decode()
    assert url not in client_for(cast.student).get(
        reverse("bibliography:export", args=["review"])
    ).content.decode()


def test_a_file_refused_at_confirmation_changes_nothing(cast, client_for):
    client = client_for(cast.analyst)
    preview = upload(client, archive()).url
    for path in upload_folder().iterdir():
        path.write_bytes(b"changed meanwhile")
    response = client.post(preview)
    assert response.status_code == 400
    assert "Nothing was imported." in response.content.decode()
    assert Annotation.objects.count() == 0 and Source.objects.count() == 0
    _ = io
