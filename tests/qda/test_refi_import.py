"""REFI-QDA in: a project exported as .qdpx comes back whole into an empty project; files in
the shapes the vendors write (ATLAS.ti's naming, NVivo's notes through links and braced GUIDs,
MAXQDA's selections without codings and CR LF texts counted without the CR) land each passage
on its words; and unsafe or broken files are refused with a message and nothing written."""

import io
import zipfile

import pytest
from django.core.management import CommandError, call_command

from apps.annotations.anchoring import replace_text
from apps.annotations.models import AnchorState, Annotation, Status
from apps.claims.models import Concept
from apps.library.models import Source
from apps.qda import importing, refi
from apps.qda.reading import QdaError
from tests import factories

TEXT = (
    "Withdrawal from society is old.\r\n\r\nChain takfir spread among the groups, said "
    "al-Su\u0304ri\u0304 in his call.\r\n\r\nIt ends here."
)
P = "urn:QDA-XML:project:1.0"
G = {  # GUIDs of the hand-written files
    "user": "0b6f0c2e-7c4d-4c7e-9a55-000000000001",
    "code1": "0b6f0c2e-7c4d-4c7e-9a55-000000000002",
    "code2": "0b6f0c2e-7c4d-4c7e-9a55-000000000003",
    "src": "0b6f0c2e-7c4d-4c7e-9a55-000000000004",
    "sel1": "0b6f0c2e-7c4d-4c7e-9a55-000000000005",
    "sel2": "0b6f0c2e-7c4d-4c7e-9a55-000000000006",
    "note": "0b6f0c2e-7c4d-4c7e-9a55-000000000007",
    "link": "0b6f0c2e-7c4d-4c7e-9a55-000000000008",
    "coding": "0b6f0c2e-7c4d-4c7e-9a55-000000000009",
}
FIELD = (
    "The dissidents left the camp in winter.\r\n"
    "They called the others apostates and refused their prayers.\r\n"
    "Nobody followed them."
)


def zipped(files: dict[str, str | bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content.encode() if isinstance(content, str) else content)
    return out.getvalue()


def span(text: str, words: str, *, crlf_counted: bool = True) -> tuple[int, int]:
    counted = text if crlf_counted else text.replace("\r\n", "\n")
    start = counted.index(words)
    return start, start + len(words)


def vendor_project(
    *,
    origin: str,
    selections: str,
    text_path: str = "internal://doc.txt",
    extra: str = "",
    namespace: str = P,
) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{namespace}" name="Field notes" origin="{origin}">
  <Users><User guid="{G["user"]}" name="Rana"/></Users>
  <CodeBook><Codes>
    <Code guid="{G["code1"]}" name="Excommunication" isCodable="true" color="#AA0000">
      <Description>Declaring others unbelievers.</Description>
      <Code guid="{G["code2"]}" name="Of rulers" isCodable="true"/>
    </Code>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="{G["src"]}" name="Field report" plainTextPath="{text_path}">
      {selections}
    </TextSource>
  </Sources>
  {extra}
</Project>"""


def selection(guid: str, words: str, *, text=FIELD, name=None, coded=True, crlf=True, user=True):
    start, end = span(text, words, crlf_counted=crlf)
    coding = (
        f'<Coding guid="{G["coding"][:-2]}{guid[-2:]}">'
        f'<CodeRef targetGUID="{G["code1"]}"/></Coding>'
        if coded
        else ""
    )
    creator = f' creatingUser="{G["user"]}"' if user else ""
    return (
        f'<PlainTextSelection guid="{guid}" name="{name if name is not None else words}" '
        f'startPosition="{start}" endPosition="{end}"{creator}>{coding}</PlainTextSelection>'
    )


def drafts(project):
    return list(Annotation.objects.filter(project=project).with_links().order_by("start"))


def nothing_written(project, before=(0, 0, 0)):
    counts = (
        Annotation.objects.filter(project=project).count(),
        Source.objects.filter(project=project).count(),
        Concept.objects.filter(project=project).count(),
    )
    assert counts == before


def analyst_in(cast):
    return cast.project.memberships.get(user=cast.analyst)


# --- Round trip -------------------------------------------------------------------------------


@pytest.fixture
def exported(cast):
    project = cast.project
    source = factories.make_source(project, "Withdrawal from Society")
    replace_text(source, TEXT, by=cast.analyst, origin="pasted")
    isolation = factories.make_concept(project, "Isolation", definition="Withdrawal.")
    physical = factories.make_concept(project, "Physical isolation", parent=isolation)
    claim = factories.make_claim(project, "Takfir spreads between groups")
    other_claim = factories.make_claim(project, "Isolation is old")
    suri = factories.make_person(project, "Abu Musab al-Suri")
    approved = factories.make_annotation(
        source, cast.analyst, status=Status.APPROVED, reviewer=cast.supervisor,
        quote="Chain takfir spread among the groups", note="Why it *matters*.",
        claims=[claim], people=[suri], concepts=[isolation],
    )  # fmt: skip
    first = factories.make_annotation(
        source, cast.analyst, quote="Withdrawal from society", concepts=[physical]
    )
    first.evidence.create(claim=other_claim, stance="contradicts")
    draft = factories.make_annotation(source, cast.analyst, quote="al-Su\u0304ri\u0304 in his call")
    for annotation in (approved, first, draft):
        annotation.anchor_in(source.full_text, source.text_version)
        annotation.save()
    out = io.BytesIO()
    refi.write_project(out, refi.Membership(project=project, role="supervisor"))
    return out.getvalue()


def test_round_trip_into_an_empty_project_keeps_passages_codings_claims_and_stances(cast, exported):
    other = factories.make_project("second", name="Second review")
    membership = factories.add_member(other, cast.analyst)
    preview = importing.preview_project(other, io.BytesIO(exported))
    assert preview.selections == {"exact": 3}
    assert preview.sources_new == ["Withdrawal from Society"]
    nothing_written(other)
    report = importing.import_project(membership, io.BytesIO(exported), file_name="x.qdpx")
    assert report.total == 3
    rows = drafts(other)
    assert [a.quote for a in rows] == [
        "Withdrawal from society",
        "Chain takfir spread among the groups",
        "al-S\u016br\u012b in his call",  # NFC, as the export wrote the text
    ]
    source = Source.objects.get(project=other)
    for annotation in rows:
        assert annotation.status == Status.DRAFT and annotation.author == cast.analyst
        assert annotation.anchor_state == AnchorState.EXACT
        assert source.full_text[annotation.start : annotation.end] == annotation.quote
        assert annotation.origin["tool"] == "REFI-QDA (Citemap)"
        assert annotation.origin["file"] == "x.qdpx"
        assert annotation.revisions.count() == 1
    first, approved, draft = rows
    assert [(e.claim.statement, e.stance) for e in first.evidence.all()] == [
        ("Isolation is old", "contradicts")
    ]
    assert [c.name for c in first.concepts.all()] == ["Physical isolation"]
    assert [(e.claim.statement, e.stance) for e in approved.evidence.all()] == [
        ("Takfir spreads between groups", "supports")
    ]
    assert [(m.person.display_name, m.function) for m in approved.mentions.all()] == [
        ("Abu Musab al-Suri", "mentioning")
    ]
    assert [c.name for c in approved.concepts.all()] == ["Isolation"]
    assert approved.note == "Why it *matters*." and "<em>matters</em>" in approved.note_html
    # The locator is the export's name of the selection.
    assert approved.locator == (
        Annotation.objects.filter(project=cast.project, quote__startswith="Chain").get().locator
    )
    physical = Concept.objects.get(project=other, name="Physical isolation")
    assert physical.parent.name == "Isolation"
    # The tallies count the new drafts as saving each through the form would.
    from apps.annotations.models import ConceptTally, SourceTally
    from apps.annotations.tallies import recount
    from tests.annotations.test_cocitation_tallies import (
        assert_current as assert_cocitation_current,
    )

    counted = {(t.pk, t.visible) for t in ConceptTally.objects.filter(project=other)}
    sources = {(t.pk, t.visible) for t in SourceTally.objects.filter(project=other)}
    assert_cocitation_current(other)
    recount(other)
    assert counted == {(t.pk, t.visible) for t in ConceptTally.objects.filter(project=other)}
    assert sources == {(t.pk, t.visible) for t in SourceTally.objects.filter(project=other)}


def test_a_second_import_into_the_same_project_finds_its_sources_by_guid(cast, exported):
    importing.import_project(analyst_in(cast), io.BytesIO(exported), file_name="again.qdpx")
    assert Source.objects.filter(project=cast.project).count() == 1
    assert Annotation.objects.filter(project=cast.project).count() == 6
    states = dict(
        Annotation.objects.filter(project=cast.project, origin__file="again.qdpx").values_list(
            "quote", "anchor_state"
        )
    )
    # The stored text spells ū as u and a combining macron; the export wrote it composed
    # (NFC), so that passage is found by its words a little further on: "moved".
    assert states == {
        "Withdrawal from society": "exact",
        "Chain takfir spread among the groups": "exact",
        "al-S\u016br\u012b in his call": "moved",
    }


def test_students_export_brings_back_approved_work_only(cast, exported):
    out = io.BytesIO()
    refi.write_project(out, cast.project.memberships.get(user=cast.student))
    other = factories.make_project("third")
    importing.import_project(factories.add_member(other, cast.analyst), out, file_name="s.qdpx")
    assert [a.quote for a in drafts(other)] == ["Chain takfir spread among the groups"]


# --- What the vendors write -------------------------------------------------------------------


def test_atlas_ti_naming_bom_and_quotes_in_names_land_on_their_words(cast):
    # Any *.qde name, a "Sources" folder, byte-order marks, and selections named by their
    # (cut) quotation; the offsets are one character off, as after an edit of the document.
    text = FIELD.replace("\r\n", "\n")
    start, end = span(text, "called the others apostates")
    body = vendor_project(
        origin="ATLAS.ti 23",
        namespace="urn:QDA-XML:project:1:0",  # the spelling of the standard's first drafts
        selections=(
            f'<PlainTextSelection guid="{G["sel1"]}" name="called the others apostates" '
            f'startPosition="{start + 1}" endPosition="{end + 1}" creatingUser="{G["user"]}"/>'
            f'<PlainTextSelection guid="{G["sel2"]}" name="The dissidents left the…" '
            f'startPosition="0" endPosition="39"/>'
        ),
    )
    data = zipped(
        {
            "Field notes (Rana).qde": "\ufeff" + body,
            "Sources/doc.txt": "\ufeff" + text,
        }
    )
    report = importing.import_project(analyst_in(cast), io.BytesIO(data), file_name="a.qdpx")
    assert report.selections == {"moved": 1, "exact": 1}
    first, second = drafts(cast.project)
    assert first.quote == "The dissidents left the camp in winter."
    assert second.quote == "called the others apostates"
    assert second.anchor_state == AnchorState.MOVED
    assert first.origin == {
        "tool": "REFI-QDA (ATLAS.ti 23)",
        "id": G["sel2"],
        "file": "a.qdpx",
    }
    assert second.origin["user"] == "Rana"
    source = second.source
    assert source.title == "Field report" and "\ufeff" not in source.full_text


def test_nvivo_notes_through_links_and_braced_guids(cast):
    # GUIDs in braces and upper case; the note is tied to the selection by a Link, and the
    # text's offsets count its CR LF line ends.
    sel = selection(G["sel1"].upper().join("{}"), "refused their prayers", name="")
    notes = (
        f'<Notes><Note guid="{G["note"]}" name="Memo"><PlainTextContent>Compare with the 2016 '
        "article.</PlainTextContent></Note></Notes>"
        f'<Links><Link guid="{G["link"]}" name="memo" originGUID="{{{G["note"].upper()}}}" '
        f'targetGUID="{G["sel1"]}"/></Links>'
    )
    data = zipped(
        {
            "project.qde": vendor_project(origin="NVivo 14", selections=sel, extra=notes),
            "sources/doc.txt": FIELD,
        }
    )
    report = importing.import_project(analyst_in(cast), io.BytesIO(data), file_name="n.qdpx")
    assert report.selections == {"exact": 1}
    (annotation,) = drafts(cast.project)
    assert annotation.quote == "refused their prayers"
    assert annotation.note == "Compare with the 2016 article."
    assert [c.name for c in annotation.concepts.all()] == ["Excommunication"]
    assert "\r" not in annotation.source.full_text


def test_maxqda_selections_without_coding_and_lf_counted_offsets_in_a_crlf_text(cast):
    sels = selection(
        G["sel1"], "refused their prayers", name="", coded=False, crlf=False, user=False
    ) + selection(G["sel2"], "Nobody followed them", name="", coded=False, crlf=False)
    data = zipped(
        {
            "project.qde": vendor_project(origin="MAXQDA 2022", selections=sels),
            "sources/doc.txt": FIELD,
        }
    )
    importing.import_project(analyst_in(cast), io.BytesIO(data), file_name="m.qdpx")
    assert [(a.quote, list(a.concepts.all())) for a in drafts(cast.project)] == [
        ("refused their prayers", []),
        ("Nobody followed them", []),
    ]


def test_a_source_here_whose_words_were_corrected_gets_the_passage_fuzzy_with_a_score(cast):
    source = factories.make_source(cast.project, "Field report")
    corrected = FIELD.replace("\r\n", "\n").replace("apostates", "apostate")
    replace_text(source, corrected, by=cast.analyst, origin="pasted")
    sels = selection(G["sel1"], "called the others apostates and refused", name="")
    data = zipped(
        {
            "project.qde": vendor_project(origin="QualCoder", selections=sels),
            "sources/doc.txt": FIELD,
        }
    )
    preview = importing.preview_project(cast.project, io.BytesIO(data))
    assert preview.selections == {"fuzzy": 1}
    assert preview.sources_matched == [("Field report", "Field report")]
    assert preview.rows[0].state == "fuzzy" and 0.75 <= preview.rows[0].score < 1
    importing.import_project(analyst_in(cast), io.BytesIO(data), file_name="q.qdpx")
    (annotation,) = drafts(cast.project)
    assert annotation.source == source
    assert annotation.anchor_state == AnchorState.FUZZY and 0.75 <= annotation.anchor_score < 1
    assert corrected[annotation.start : annotation.end] == "called the others apostate and refused"


def test_orphans_are_left_out_unless_asked(cast):
    source = factories.make_source(cast.project, "Field report")
    replace_text(
        source, "An unrelated text about something else entirely.", by=cast.analyst, origin="pasted"
    )
    sels = selection(G["sel1"], "called the others apostates and refused their prayers", name="")
    data = zipped(
        {
            "project.qde": vendor_project(origin="QualCoder", selections=sels),
            "sources/doc.txt": FIELD,
        }
    )
    report = importing.import_project(analyst_in(cast), io.BytesIO(data), file_name="o.qdpx")
    assert report.selections == {"orphaned": 1}
    assert drafts(cast.project) == []
    importing.import_project(
        analyst_in(cast), io.BytesIO(data), file_name="o.qdpx", keep_orphans=True
    )
    (orphan,) = drafts(cast.project)
    assert orphan.anchor_state == AnchorState.ORPHANED and orphan.start is None


# --- Codebooks ----------------------------------------------------------------------------------


def codebook(namespace: str = "urn:QDA-XML:codebook:1:0") -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="{namespace}" origin="MAXQDA"><Codes>
  <Code guid="{G["code1"]}" name="Isolation" isCodable="true">
    <Description>Keeping apart from society.</Description>
    <Code guid="{G["code2"]}" name="Hijra" isCodable="true"/>
  </Code>
  <Code guid="{G["src"]}" name="Excommunication" isCodable="true">
    <Description>Takfir.</Description>
  </Code>
  <Code guid="{G["sel1"]}" name="Rulers" isCodable="true"/>
</Codes></CodeBook>""".encode()


def test_a_codebook_in_the_older_namespace_previews_new_same_and_conflicting(cast):
    factories.make_concept(cast.project, "Isolation", definition="Withdrawal.")
    factories.make_concept(cast.project, "Excommunication", definition="Takfir.")
    rows = importing.preview_codebook(cast.project, io.BytesIO(codebook()), "c.qdc")
    assert [(r.name, r.status) for r in rows] == [
        ("Isolation", "conflict"),
        ("Hijra", "new"),
        ("Excommunication", "same"),
        ("Rulers", "new"),
    ]
    counts = importing.import_codebook(
        cast.project, io.BytesIO(codebook()), "c.qdc", by=cast.analyst
    )
    assert (counts["new"], counts["same"]) == (2, 2)
    isolation = Concept.objects.get(project=cast.project, name="Isolation")
    assert isolation.definition == "Withdrawal."  # kept: not asked to take theirs
    assert Concept.objects.get(project=cast.project, name="Hijra").parent == isolation
    importing.import_codebook(
        cast.project,
        io.BytesIO(codebook(refi.CODEBOOK_NS)),
        "c.qdc",
        by=cast.analyst,
        take_theirs=True,
    )
    isolation.refresh_from_db()
    assert isolation.definition == "Keeping apart from society." and isolation.version == 2


def test_colours_come_in_in_either_spelling_and_unreadable_ones_are_dropped(cast):
    data = codebook().replace(b'isCodable="true">', b'isCodable="true" color="#A30">', 1)
    data = data.replace(
        b'name="Rulers" isCodable="true"', b'name="Rulers" isCodable="true" color="red"'
    )
    importing.import_codebook(cast.project, io.BytesIO(data), "c.qdc", by=None)
    colours = dict(Concept.objects.filter(project=cast.project).values_list("name", "colour"))
    assert colours == {"Isolation": "#aa3300", "Hijra": "", "Excommunication": "", "Rulers": ""}


def test_citemaps_own_codebook_comes_back_as_the_same_concepts(cast, exported):
    out = io.BytesIO()
    refi.write_codebook(out, refi.Membership(project=cast.project, role="supervisor"))
    other = factories.make_project("fourth")
    rows = importing.preview_codebook(other, io.BytesIO(out.getvalue()), "c.qdc")
    assert [(r.name, r.parent) for r in rows] == [
        ("Isolation", ""),
        ("Physical isolation", "Isolation"),
    ]
    importing.import_codebook(other, io.BytesIO(out.getvalue()), "c.qdc", by=None)
    assert (
        importing.preview_codebook(other, io.BytesIO(out.getvalue()), "c.qdc")[0].status == "same"
    )


# --- Bad files ----------------------------------------------------------------------------------


def ok_files(**changes) -> dict:
    files = {
        "project.qde": vendor_project(
            origin="QualCoder", selections=selection(G["sel1"], "Nobody followed them")
        ),
        "sources/doc.txt": FIELD,
    }
    files.update(changes)
    return files


BOMB = b"\0" * (8 * 1024 * 1024)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
    '"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><Project xmlns="'
    + P
    + '">&lol2;</Project>'
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<Project xmlns="' + P + '" name="&x;"/>'
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"just some bytes", "not a zip archive"),
        (zipped({"readme.txt": "hello"}), "no project file (*.qde)"),
        (zipped(ok_files(**{"../evil.txt": "x"})), "names a file outside itself"),
        (zipped(ok_files(**{"/etc/cron.d/x": "x"})), "names a file outside itself"),
        (zipped(ok_files(**{"sources/doc.txt": FIELD.encode() + BOMB})), "zip bomb"),
        (zipped(ok_files(**{"project.qde": LAUGHS})), "declares a DTD or entities"),
        (zipped(ok_files(**{"project.qde": XXE})), "declares a DTD or entities"),
        (
            zipped(ok_files(**{"project.qde": "<Project><Unclosed></Project>"})),
            "not well-formed XML",
        ),
        (
            zipped(
                ok_files(
                    **{
                        "project.qde": vendor_project(
                            origin="X",
                            selections=selection(G["sel1"], "Nobody followed them").replace(
                                G["code1"], G["note"]
                            ),
                        )
                    }
                )
            ),
            "a broken GUID reference",
        ),
        (
            zipped(
                ok_files(
                    **{
                        "project.qde": vendor_project(
                            origin="X",
                            selections=selection(G["sel1"], "Nobody").replace(
                                'endPosition="', 'endPosition="9'
                            ),
                        )
                    }
                )
            ),
            "beyond the end of its source's text",
        ),
        (
            zipped(
                ok_files(
                    **{
                        "project.qde": vendor_project(
                            origin="X",
                            selections=selection(G["sel1"], "Nobody"),
                            text_path="internal://missing.txt",
                        )
                    }
                )
            ),
            "is not in the archive's sources folder",
        ),
        (
            zipped(
                ok_files(
                    **{
                        "project.qde": vendor_project(
                            origin="X",
                            selections=selection(G["sel1"], "Nobody"),
                            text_path="file:///etc/passwd",
                        )
                    }
                )
            ),
            "outside the archive",
        ),
        (zipped(ok_files(**{"sources/doc.txt": b"\xff\xfe\xfd not utf"})), "not UTF-8"),
        (zipped(ok_files(**{"project.qde": "<CodeBook/>"})), "not a REFI-QDA project file"),
    ],
)
def test_bad_archives_are_refused_with_a_message_and_nothing_written(cast, data, message):
    with pytest.raises(
        QdaError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")
    ):
        importing.preview_project(cast.project, io.BytesIO(data))
    with pytest.raises(QdaError):
        importing.import_project(analyst_in(cast), io.BytesIO(data), file_name="bad.qdpx")
    nothing_written(cast.project)


def test_a_codebook_beyond_the_limit_is_refused(cast, monkeypatch):
    from apps.qda import reading

    monkeypatch.setattr(reading, "MAX_CODES", 3)
    with pytest.raises(QdaError, match="more than 3 codes"):
        importing.preview_codebook(cast.project, io.BytesIO(codebook()), "c.qdc")
    nothing_written(cast.project)


def test_a_refusal_halfway_through_writes_nothing(cast):
    # The first source is fine and would be written; the second's selection is broken.
    second = (
        vendor_project(origin="X", selections="")
        .replace(
            "</Sources>",
            f'<TextSource guid="{G["note"]}" name="Second" plainTextPath="internal://doc.txt">'
            f'<PlainTextSelection guid="{G["sel2"]}" name="" startPosition="5" '
            'endPosition="99999"/>'
            "</TextSource></Sources>",
        )
        .replace("</TextSource>\n  </Sources>", "</TextSource></Sources>")
    )
    second = second.replace(
        "</TextSource>", selection(G["sel1"], "Nobody followed them") + "</TextSource>", 1
    )
    data = zipped({"project.qde": second, "sources/doc.txt": FIELD})
    with pytest.raises(QdaError, match="beyond the end"):
        importing.import_project(analyst_in(cast), io.BytesIO(data), file_name="half.qdpx")
    nothing_written(cast.project)


def test_commands_import_a_project_and_a_codebook(cast, exported, tmp_path, capsys):
    factories.make_project("fifth")
    factories.add_member(factories.make_project("sixth"), cast.analyst)
    path = tmp_path / "p.qdpx"
    path.write_bytes(exported)
    call_command("import_qdpx", str(path), project="sixth", user="analyst", dry_run=True)
    assert "Would import 3 passages" in capsys.readouterr().out
    assert Annotation.objects.filter(project__slug="sixth").count() == 0
    call_command("import_qdpx", str(path), project="sixth", user="analyst")
    assert "3 exact" in capsys.readouterr().out
    assert Annotation.objects.filter(project__slug="sixth").count() == 3
    with pytest.raises(CommandError, match="not a member"):
        call_command("import_qdpx", str(path), project="fifth", user="analyst")
    with pytest.raises(CommandError, match="may not annotate"):
        call_command("import_qdpx", str(path), project="review", user="student")
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(b"nope")
    with pytest.raises(CommandError, match="nothing was imported. This is not a REFI-QDA"):
        call_command("import_qdpx", str(bad), project="sixth", user="analyst")
    qdc = tmp_path / "c.qdc"
    qdc.write_bytes(codebook())
    call_command("import_qdc", str(qdc), project="fifth")
    assert "Concepts: 4 new, 0 updated, 0 already here." in capsys.readouterr().out
    with pytest.raises(CommandError, match="a zip archive, not a REFI-QDA codebook"):
        call_command("import_qdc", str(path), project="fifth")


def test_imported_passages_carry_the_library_version_of_their_import(cast, exported):
    """An API client syncing with since= sees them (they are written without save())."""
    other = factories.make_project("synced")
    before = type(other).objects.get(pk=other.pk).library_version
    importing.import_project(
        factories.add_member(other, cast.analyst), io.BytesIO(exported), file_name="s.qdpx"
    )
    after = type(other).objects.get(pk=other.pk).library_version
    assert after > before
    assert set(
        Annotation.objects.filter(project=other).values_list("library_version", flat=True)
    ) == {after}
