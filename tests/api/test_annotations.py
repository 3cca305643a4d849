"""API annotations are the Web Annotations of the JSON-LD export (the reference: same writer),
with the API's id, version, review status and actions beside them."""

from tests.webanno.test_w3c import export, items
from tests.webanno.test_w3c import review as review  # noqa: F401 (annotations with every part)

API_FIELDS = {"id", "iri", "status", "version", "source_id", "actions"}


def test_each_annotation_is_the_one_the_json_ld_export_writes(cast, review, client_for, api_for):
    exported = {
        item["id"]: item for item in items(export(client_for(cast.supervisor), cast.project))
    }
    listed = api_for(cast.supervisor).get("/api/v1/p/review/annotations/").json()["results"]
    assert len(listed) == len(exported) == 2
    for row in listed:
        item = exported[row["iri"]]
        assert row["status"] == item.pop("reviewStatus")
        del item["@context"], item["id"]
        assert {key: value for key, value in row.items() if key not in API_FIELDS} == item
        one = api_for(cast.supervisor).get(f"/api/v1/p/review/annotations/{row['id']}/").json()
        assert one == row
    # The richest of them has every part: positions, page label, linking and tagging bodies.
    full = next(row for row in listed if row["status"] == "approved")
    assert [s["type"] for s in full["target"]["selector"]] == [
        "TextQuoteSelector", "TextPositionSelector",
    ]  # fmt: skip
    assert full["target"]["pageLabel"] == "14"
    assert {(b["type"], b["purpose"]) for b in full["body"]} == {
        ("TextualBody", "commenting"), ("SpecificResource", "linking"), ("TextualBody", "tagging"),
    }  # fmt: skip
