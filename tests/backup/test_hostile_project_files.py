"""Project files and CSL-JSON made to hurt: brackets nested thousands deep, numbers of
thousands of digits, usernames the sign-up form would refuse. Each is a message; nothing is
written."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.models import Project, User
from apps.backup import project_file
from apps.bibliography import csljson
from apps.bibliography.records import FileError
from apps.demo.seed import load_seed_review
from tests.backup.test_project_file import export, import_data, uploads_in_a_temporary_folder

__all__ = ["uploads_in_a_temporary_folder"]  # the fixture, used by every test here

DEEP = 100_000
HEADER = '{\n"format": "citemap-project",\n"version": 3,\n'

HOSTILE_FILES = {
    "nested brackets (any layout)": "[" * DEEP + "]" * DEEP,
    "nested inside the project": '{"format": "citemap-project", "version": 3, "project": '
    + "[" * DEEP
    + "]" * DEEP
    + "}",
    "nested on one line": HEADER + '"project": ' + "[" * DEEP + "]" * DEEP + ",\n}",
    "a number of 5,000 digits on one line": HEADER + '"project": ' + "9" * 5000 + ",\n}",
    "nested objects": '{"format": "citemap-project", "version": 3, "project": '
    + '{"a": ' * DEEP
    + "1"
    + "}" * DEEP
    + "}",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_a_hostile_file_is_a_message_when_previewed_and_imported(db, name):
    data = HOSTILE_FILES[name].encode()
    for read in (project_file.read_summary, project_file.import_project):
        try:
            read(io.BytesIO(data))
        except project_file.ProjectFileError as error:
            assert str(error)
        else:
            assert read is project_file.read_summary, "an import of it must be refused"
    assert not Project.objects.exists() and not User.objects.exists()


def test_the_backup_page_refuses_nested_brackets_with_a_message(cast, client_for):
    supervisor = client_for(cast.supervisor)
    response = supervisor.post(
        "/p/review/export/project/",
        {"file": SimpleUploadedFile("deep.json", HOSTILE_FILES["nested on one line"].encode())},
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.text
    assert Project.objects.count() == 2


@pytest.mark.parametrize(
    "username",
    ["bad name", "<script>", "a/b", "x" * 151, "", "nul\x00byte", "tab\tname", 12],
)
def test_an_import_refuses_usernames_the_sign_up_form_refuses(db, username):
    load_seed_review()
    data = json.loads(export())
    data["users"].append({**data["users"][0], "username": username})
    users = User.objects.count()
    # PostgreSQL refuses a NUL byte in any text before the username is checked; the message
    # names that instead.
    refused = "not a valid username|cannot contain NUL"
    with pytest.raises(project_file.ProjectFileError, match=refused):
        import_data(data, slug="copy")
    assert not Project.objects.filter(slug="copy").exists()
    assert User.objects.count() == users


def test_an_import_accepts_the_usernames_the_sign_up_form_accepts(db):
    load_seed_review()
    data = json.loads(export())
    data["users"].append({**data["users"][0], "username": "new.person+1@example-org_x"})
    project = import_data(data, slug="copy")
    assert project.slug == "copy"
    assert User.objects.filter(username="new.person+1@example-org_x").exists()


@pytest.mark.parametrize(
    "text",
    [
        "[" * DEEP + "]" * DEEP,
        '[{"id": "a", "type": "book", "title": ' + "[" * DEEP + "]" * DEEP + "}]",
        "[" + "9" * 5000 + "]",
    ],
)
def test_csl_json_nested_too_deeply_is_a_message(text):
    with pytest.raises(FileError):
        entries = csljson.read(text)
        # A file that parses may still be refused item by item, never with an exception.
        assert all(entry.error for entry in entries)
        raise FileError("read")
