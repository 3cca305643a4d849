"""REFI-QDA project import at the issue's size, beside a tenth of it in the same run.

An archive of 100 sources of 50,000 characters with 10,000 coded selections (and 10 sources
with 1,000 selections beside it, to see how the cost grows) is uploaded, previewed and
confirmed through the pages, as an analyst does; the confirmation's background job runs in
the request here, as the tests run jobs. Targets: the preview under 10 s, the import under
30 s. The texts have CR LF line ends; a third of the selections count positions without the
CR (as some tools write), so the reader must tell which counting each selection used.

    .venv/bin/python bench/qda.py                 # SQLite
    .venv/bin/python bench/qda.py --postgres      # PostgreSQL, database citemap_bench_qda
"""

import argparse
import io
import os
import random
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.imports import Peak, report  # noqa: E402

WORDS = (
    "isolation withdrawal takfir caliphate insurgency doctrine faction purity dissent "
    "movement violence state territory ideology recruitment network leadership hijra"
).split()
NS = "urn:QDA-XML:project:1.0"


def text(rng: random.Random, size: int) -> str:
    lines, length = [], 0
    while length < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
        lines.append(line)
        length += len(line) + 1
    return "\n".join(lines)[:size]


def archive(sources: int, per_source: int, chars: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    gid = lambda: str(uuid.UUID(int=rng.getrandbits(128)))  # noqa: E731
    user = gid()
    codes = [(gid(), f"Code {n}") for n in range(50)]
    parts = [
        f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="{NS}" name="Bench" '
        f'origin="Bench 1.0"><Users><User guid="{user}" name="Coder"/></Users>'
        "<CodeBook><Codes>"
        + "".join(f'<Code guid="{g}" name="{n}" isCodable="true"/>' for g, n in codes)
        + "</Codes></CodeBook><Sources>"
    ]
    files = {}
    for s in range(sources):
        body = text(rng, chars)
        guid = gid()
        files[f"sources/{guid}.txt"] = body
        parts.append(
            f'<TextSource guid="{guid}" name="Source {s}" plainTextPath="internal://{guid}.txt">'
        )
        for n in range(per_source):
            start = rng.randrange(0, chars - 300)
            while start > 0 and body[start - 1] != " ":
                start -= 1
            end = body.find(" ", start + rng.randint(40, 200))
            # The file has CR LF line ends: most offsets count them, a third do not.
            shift = 0 if n % 3 == 0 else body.count("\n", 0, start)
            inside = body.count("\n", start, end) if n % 3 else 0
            code = rng.choice(codes)[0]
            parts.append(
                f'<PlainTextSelection guid="{gid()}" name="" startPosition="{start + shift}" '
                f'endPosition="{end + shift + inside}" creatingUser="{user}">'
                f'<Coding guid="{gid()}"><CodeRef targetGUID="{code}"/></Coding>'
                "</PlainTextSelection>"
            )
        parts.append("</TextSource>")
    parts.append("</Sources></Project>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("project.qde", "".join(parts))
        for name, body in files.items():
            zipped.writestr(name, body.replace("\n", "\r\n"))
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL at 127.0.0.1")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    if args.postgres:
        import psycopg

        with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS citemap_bench_qda")
            conn.execute("CREATE DATABASE citemap_bench_qda")
        os.environ["DATABASE_URL"] = f"{args.pg_url}/citemap_bench_qda"
        where = "PostgreSQL database citemap_bench_qda"
    else:
        folder = tempfile.mkdtemp(prefix="citemap-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
        os.environ["DATA_DIR"] = folder
        where = f"SQLite file {folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ["JOBS_MODE"] = "immediate"

    import django

    django.setup()
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client

    from apps.accounts.models import Membership, Project, Role, User
    from apps.annotations.models import Annotation
    from apps.jobs.models import Job

    settings.JOBS_MODE = "immediate"
    call_command("migrate", verbosity=0)
    owner = User.objects.create_user("bench-owner", password="x-bench-password-1")
    analyst = User.objects.create_user("bench-analyst", password="x-bench-password-1")
    print(f"REFI-QDA import on {where}; load average {os.getloadavg()[0]:.1f}")
    totals = {}
    for label, sources, per_source in (("1,000 selections", 10, 100), ("10,000", 100, 100)):
        slug = f"bench-{sources}"
        project = Project.objects.create_with_supervisor(owner, slug=slug, name=slug)
        Membership.objects.create(project=project, user=analyst, role=Role.ANALYST)
        data = archive(sources, per_source, 50_000)
        client = Client()
        client.force_login(analyst)
        rows = []
        with Peak() as upload:
            response = client.post(
                f"/p/{slug}/qda/import/", {"file": SimpleUploadedFile("b.qdpx", data)}
            )
        assert response.status_code == 302, response.content[-1500:]
        rows.append(("upload and preview (read, place, count)", upload))
        with Peak() as page:
            assert client.get(response.url).status_code == 200
        rows.append(("preview page", page))
        with Peak() as confirm:
            done = client.post(response.url)
            assert done.status_code == 302
        rows.append(("confirm: the import writes everything", confirm))
        made = Annotation.objects.filter(project=project).count()
        assert made == sources * per_source, (made, Job.objects.values_list("error", flat=True))
        states = dict(
            Annotation.objects.filter(project=project)
            .values_list("anchor_state")
            .annotate(n=django.db.models.Count("pk"))
        )
        print(
            f"\n{label}: {sources} sources of 50,000 characters, {len(data) / 1e6:.1f} MB "
            f"archive; placed {states}"
        )
        report(rows)
        totals[label] = (upload.seconds, confirm.seconds, upload.cpu_seconds, confirm.cpu_seconds)
    small, large = totals.values()
    print(
        f"\n10x the selections: preview {large[0] / small[0]:.1f}x the time "
        f"({large[2] / small[2]:.1f}x CPU), import {large[1] / small[1]:.1f}x "
        f"({large[3] / small[3]:.1f}x CPU); load average now {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
