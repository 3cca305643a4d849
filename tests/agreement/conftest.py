"""A double-coding round on one source by the cast's two analysts."""

from dataclasses import dataclass

import pytest

from apps.agreement import coding
from apps.agreement.models import Assignment, Variable
from tests import factories

TEXT = (
    "The Islamic State's retreat will not end jihadism. Isolationist takfiri groups will "
    "spread, as Kaplan's fifth wave suggests. Sayyid Qutb wrote of a vanguard apart. "
    "Crenshaw reminds us that organisations outlive their causes. Naji planned for savagery."
)


def span(text: str, words: str) -> tuple[int, int]:
    start = TEXT.index(words)
    return start, start + len(words)


@dataclass
class Round:
    assignment: Assignment
    source: object
    claim: object
    claim2: object
    person: object
    concept: object

    def code(
        self, coder, words: str, *, stance="supports", claims=None, people=(), works=(), shift=0
    ):
        """A passage by `coder` on `words` (moved by `shift` characters at its end)."""
        start, end = span(TEXT, words)
        end += shift
        annotation = factories.make_annotation(
            self.source,
            coder,
            quote=TEXT[start:end],
            start=start,
            end=end,
            claims=[self.claim] if claims is None else claims,
            stance=stance,
            people=list(people),
            works=list(works),
        )
        return annotation


@pytest.fixture
def coding_round(cast) -> Round:
    project = cast.project
    source = factories.make_source(project, "Retreat and isolation", full_text=TEXT)
    assignment = coding.assign(
        project=project,
        title="Round one",
        ranges=[coding.Range(source)],
        coders=[cast.analyst, cast.analyst2],
        variables=list(Variable.values),
        due_date=None,
        tolerance=5,
        by=cast.supervisor,
    )
    return Round(
        assignment=assignment,
        source=source,
        claim=factories.make_claim(project, "Takfiri groups will spread"),
        claim2=factories.make_claim(project, "Organisations outlive causes"),
        person=factories.make_person(project, "Jeffrey Kaplan"),
        concept=factories.make_concept(project, "Isolation"),
    )


@pytest.fixture
def compared(cast, coding_round) -> Round:
    """Two agreements, a stance disagreement, a span disagreement and a passage only one coded."""
    r = coding_round
    for coder in (cast.analyst, cast.analyst2):
        r.code(coder, "The Islamic State's retreat will not end jihadism.")
        r.code(coder, "Isolationist takfiri groups will spread", people=[r.person])
    r.code(cast.analyst, "Sayyid Qutb wrote of a vanguard apart.", stance="supports")
    r.code(cast.analyst2, "Sayyid Qutb wrote of a vanguard apart.", stance="asserts")
    r.code(cast.analyst, "Crenshaw reminds us", claims=[r.claim2])
    r.code(cast.analyst2, "Crenshaw reminds us that organisations outlive", claims=[r.claim2])
    r.code(cast.analyst, "Naji planned for savagery.")
    for coder in (cast.analyst, cast.analyst2):
        coding.mark_done(assignment=r.assignment, coder=coder)
    coding.compare(assignment=r.assignment, by=cast.supervisor)
    r.assignment.refresh_from_db()
    return r


# A co-coder's passage, not in the source's text, and a word of it found nowhere else: seeing
# it on a page means the passage leaked.
SECRET = "Organisations outlive zebraquartz causes"
MARK = "zebraquartz"


@pytest.fixture
def co_coded(cast, coding_round):
    """analyst2 coded SECRET in the open assignment, and a supervisor approved it; analyst2
    had also an approved passage on the source from before."""
    r = coding_round
    r.code(cast.analyst, "The Islamic State's retreat will not end jihadism.")
    start, end = len("The Islamic State's retreat"), len("The Islamic State's retreat will")
    theirs = factories.make_annotation(
        r.source, cast.analyst2, quote=SECRET, start=start, end=end, note=f"Note {MARK}",
        claims=[r.claim], people=[r.person], concepts=[r.concept],
    )  # fmt: skip
    theirs.transition("submit", by=cast.analyst2)
    theirs.transition("approve", by=cast.supervisor)
    return r, theirs
