from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat, truncatechars
from django.urls import reverse

from apps.accounts.editing import VersionedForm
from apps.accounts.models import Membership
from apps.accounts.references import (
    BoundedModelMultipleChoiceField,
    NewReference,
    ReferenceField,
    bind_reference,
)
from apps.annotations.anchoring import Haystack, Place, same_words
from apps.annotations.models import (
    DECISIONS,
    MAX_QUOTE_LENGTH,
    NEEDS_REASON,
    Annotation,
    MentionFunction,
    ReasonCode,
    Stance,
)
from apps.claims.models import Claim, ClaimKind, Concept
from apps.library.extract import (
    MAX_UPLOAD_BYTES,
    Extracted,
    ExtractionError,
    check_length,
    extract,
)
from apps.library.models import Source, TextOrigin
from apps.people.models import NAME_MAX, Person, name_key

MAX_NOTE_LENGTH = 20_000


@dataclass(frozen=True)
class Occurrence:
    """A place the typed quote may refer to, offered for the analyst to choose."""

    start: int
    end: int
    words: str
    before: str
    after: str
    page: str
    how: str
    score: float
    # Where a reader finds it, as the locator would say: "p. 14", else "¶12".
    where: str = ""

    @property
    def value(self) -> str:
        return f"{self.start}-{self.end}"


SHOWN_CONTEXT = 60


def occurrence_at(haystack: Haystack, place: Place) -> Occurrence:
    text = haystack.text
    return Occurrence(
        start=place.start,
        end=place.end,
        words=text[place.start : place.end],
        before=text[max(0, place.start - SHOWN_CONTEXT) : place.start],
        after=text[place.end : place.end + SHOWN_CONTEXT],
        page=haystack.page_label(place.start),
        how=place.how,
        score=place.score,
        where=haystack.locator(place.start),
    )


class QuotePlacement(forms.Form):
    """Places the quote in the source's text: at the offsets a selection gave, or where the
    typed quote occurs (the analyst picks among repeats and near matches). After validation
    `placed` is the chosen span, or None when the source has no text."""

    OFFSET_ERRORS = {
        "min_value": "A text offset cannot be negative.",
        "invalid": "A text offset is a whole number.",
    }
    start = forms.IntegerField(
        widget=forms.HiddenInput, min_value=0, required=False, error_messages=OFFSET_ERRORS
    )
    end = forms.IntegerField(
        widget=forms.HiddenInput, min_value=0, required=False, error_messages=OFFSET_ERRORS
    )
    occurrence = forms.CharField(required=False, max_length=30)

    def setup_placement(self, haystack: Haystack | None, start: int | None, end: int | None):
        self.haystack = haystack or Haystack("")
        self.occurrences: list[Occurrence] = []
        self.placed: tuple[int, int] | None = None
        if start is not None:
            self.fields["start"].initial = start
            self.fields["end"].initial = end

    def placement_needed(self) -> bool:
        return True

    def clean_quote(self) -> str:
        # Browsers send a textarea's line breaks as CR LF; stored texts use LF.
        return self.cleaned_data["quote"].replace("\r\n", "\n")

    def clean(self) -> dict:
        cleaned = super().clean()
        quote = cleaned.get("quote")
        if quote and self.placement_needed():
            self._place(cleaned, quote)
        return cleaned

    def _place(self, cleaned: dict, quote: str) -> None:
        text = self.haystack.text
        start, end = cleaned.get("start"), cleaned.get("end")
        chosen = cleaned.get("occurrence", "")
        if chosen:
            start, end = self._chosen_span(chosen, quote)
            if start is None:
                return
        if (start is None) != (end is None):
            self.add_error(None, "Give both the start and the end of the passage, or neither.")
            return
        if start is not None:
            if not start < end <= len(text):
                self.add_error(
                    "quote",
                    f"The offsets {start}–{end} are beyond this source's text, which has "
                    f"{len(text):,} characters.",
                )
                return
            words = text[start:end]
            if words != quote and not chosen and not same_words(words, quote):
                self.add_error(
                    "quote",
                    f"The quote does not match the text at characters {start}–{end}, which "
                    f"reads “{truncatechars(words, 120)}”. Correct the quote or select the "
                    "passage again.",
                )
                return
            # Spacing the textarea changed, or a near match the analyst chose: the text's words.
            cleaned["quote"] = words
            self.placed = (start, end)
            return
        if not text:
            return
        self._locate(cleaned, quote)

    def _locate(self, cleaned: dict, quote: str) -> None:
        places = self.haystack.find(quote)
        if len(places) == 1 and places[0].how in ("exact", "folded"):
            # Found once, perhaps written with other letter forms (hamzas, ى/ي, ة/ه), case or
            # punctuation: the text's own words are kept.
            self.placed = (places[0].start, places[0].end)
            cleaned["quote"] = self.haystack.text[places[0].start : places[0].end]
            return
        self.occurrences = [occurrence_at(self.haystack, place) for place in places]
        if not places:
            self.add_error(
                "quote",
                "The quote was not found in this source's text, not even approximately. Check "
                "it against the reading view, or select the passage there.",
            )
        elif places[0].how == "exact":
            self.add_error(
                "quote",
                f"The quote occurs {len(places)} times in the text. Choose the one you mean below.",
            )
        else:
            self.add_error(
                "quote",
                "The quote does not match the text exactly. Choose the passage you mean below "
                "to take the text's own words, or correct the quote.",
            )

    def _chosen_span(self, chosen: str, quote: str) -> tuple[int | None, int | None]:
        """The span of a chosen occurrence, if it is still one the quote leads to."""
        candidates = {f"{place.start}-{place.end}": place for place in self.haystack.find(quote)}
        place = candidates.get(chosen)
        if place is None:
            self.occurrences = [occurrence_at(self.haystack, p) for p in candidates.values()]
            self.add_error(
                "quote", "The passage chosen is not one this quote leads to; choose again."
            )
            return None, None
        return place.start, place.end


class AnnotationForm(QuotePlacement, VersionedForm):
    """The excerpt and note, placed in the source's text (see QuotePlacement)."""

    quote = forms.CharField(
        max_length=MAX_QUOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"}),
        help_text="The exact words of the source; type or paste them.",
    )
    note = forms.CharField(
        max_length=MAX_NOTE_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "dir": "auto"}),
        help_text="Your reading of the passage. Markdown: *emphasis*, **strong**, [links](https://…).",
    )
    concepts = BoundedModelMultipleChoiceField(
        queryset=Concept.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The codebook entries this passage illustrates.",
    )

    class Meta:
        model = Annotation
        fields = ["quote", "locator", "page_label", "note", "concepts"]
        labels = {"page_label": "Page"}
        help_texts = {
            "locator": "Where a reader finds it: ¶12, p. 14, 00:12:30.",
            "page_label": "The printed page number, if the source has pages.",
        }

    def __init__(
        self, *args: Any, membership: Membership, haystack: Haystack | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["concepts"].queryset = Concept.objects.for_project(membership.project)
        self.fields["locator"].required = False  # filled in from the place when left empty
        self.setup_placement(haystack, self.instance.start, self.instance.end)

    def placement_needed(self) -> bool:
        moved = {"quote", "start", "end", "occurrence"} & set(self.changed_data)
        return bool(moved) or not self.instance.pk

    def clean(self) -> dict:
        cleaned = super().clean()
        # The locator follows from the place when it is left empty, whichever way the passage
        # was placed (selected in the reading view or typed and found).
        if not cleaned.get("locator") and "locator" not in self.errors:
            start = self.placed[0] if self.placed else self.instance.start
            if start is not None and self.haystack is not None and self.haystack.text:
                cleaned["locator"] = self.haystack.locator(start)
            else:
                self.add_error(
                    "locator", "Say where a reader finds the passage: ¶12, p. 14, 00:12:30."
                )
        return cleaned


class LinkForm(forms.Form):
    """A row that links the annotation to something typed as a reference."""

    def _resolve(self, name: str, *, create: bool = False) -> Any:
        field = self.fields[name]
        try:
            return field.clean_reference(self.cleaned_data.get(name, ""), create=create)
        except forms.ValidationError as error:
            self.add_error(name, error)
            return None


class EvidenceForm(LinkForm):
    claim = ReferenceField(
        what="claim",
        allow_new=True,
        required=False,
        help_text="“#12”, the exact statement, or a new statement with “new” ticked.",
    )
    new_claim = forms.BooleanField(required=False, label="new")
    claim_kind = forms.ChoiceField(
        choices=ClaimKind.choices, initial=ClaimKind.THESIS, label="Kind (new claim)"
    )
    stance = forms.ChoiceField(choices=Stance.choices, initial=Stance.SUPPORTS)

    def clean(self) -> dict:
        cleaned = super().clean()
        cleaned["claim"] = self._resolve("claim", create=cleaned.get("new_claim", False))
        return cleaned


class MentionForm(LinkForm):
    person = ReferenceField(
        what="person",
        allow_new=True,
        required=False,
        help_text="“#12” or a name in any spelling; tick “new” for someone not yet recorded.",
    )
    new_person = forms.BooleanField(required=False, label="new")
    work = ReferenceField(
        what="source",
        required=False,
        label="Work cited",
        help_text="Optional: “#12”, its citation key or exact title.",
    )
    function = forms.ChoiceField(
        choices=MentionFunction.choices, initial=MentionFunction.MENTIONING
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        cleaned["person"] = self._resolve("person", create=cleaned.get("new_person", False))
        if isinstance(cleaned["person"], NewReference) and len(cleaned["person"].text) > NAME_MAX:
            self.add_error("person", f"A name has at most {NAME_MAX} characters.")
        cleaned["work"] = self._resolve("work")
        if cleaned["work"] is not None and cleaned["person"] is None and not self.errors:
            self.add_error("person", "Name the person whose work this is.")
        return cleaned


class LinkFormSet(forms.BaseFormSet):
    """Evidence or mention rows bound to the project's claims, people and sources."""

    key = ""
    what = ""

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.membership = membership

    def _construct_form(self, i: int, **kwargs: Any) -> forms.Form:
        form = super()._construct_form(i, **kwargs)
        self.bind(form)
        return form

    @property
    def empty_form(self) -> forms.Form:
        form = super().empty_form
        self.bind(form)
        return form

    def bind(self, form: forms.Form) -> None:
        project = self.membership.project
        references = {
            "claim": (
                Claim.objects.visible_to(self.membership).resolve_reference,
                "claims:claim_lookup",
            ),
            "person": (
                Person.objects.for_project(project).resolve_reference,
                "people:person_lookup",
            ),
            "work": (
                Source.objects.for_project(project).resolve_reference,
                "library:source_lookup",
            ),
        }
        for name, (resolver, url_name) in references.items():
            if name in form.fields:
                bind_reference(form.fields[name], resolver, reverse(url_name, args=[project.slug]))

    def links(self) -> list[dict]:
        return [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and form.cleaned_data.get(self.key) is not None
        ]

    def clean(self) -> None:
        if any(self.errors):
            return
        seen = set()
        for row in self.links():
            target = row[self.key]
            identity = (
                ("new", self.new_identity(target.text))
                if isinstance(target, NewReference)
                else target.pk
            )
            if row.get("work") is not None:
                identity = (identity, row["work"].pk)
            if identity in seen:
                raise forms.ValidationError(f"The same {self.what} is linked twice.")
            seen.add(identity)

    def new_identity(self, text: str) -> str:
        """What makes two rows typed as new the same row (as `typed_new` decides)."""
        return " ".join(text.split()).casefold()


class EvidenceFormSet(LinkFormSet):
    key = "claim"
    what = "claim"


class MentionFormSet(LinkFormSet):
    key = "person"
    what = "person (and work)"

    def new_identity(self, text: str) -> str:
        return name_key(text) or super().new_identity(text)


MAX_LINKS = 50
EvidenceRows = forms.formset_factory(
    EvidenceForm,
    formset=EvidenceFormSet,
    extra=2,
    max_num=MAX_LINKS,
    absolute_max=MAX_LINKS,
    validate_max=True,
)
MentionRows = forms.formset_factory(
    MentionForm,
    formset=MentionFormSet,
    extra=2,
    max_num=MAX_LINKS,
    absolute_max=MAX_LINKS,
    validate_max=True,
)


class DecisionForm(forms.Form):
    """A review action as posted from the annotation page or the queue."""

    seen_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    reason = forms.ChoiceField(
        choices=[("", "Choose a reason…"), *ReasonCode.choices], required=False
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        help_text="Required when you request changes, reject or reopen: say what to fix.",
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action = action

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.action in NEEDS_REASON:
            if not cleaned.get("reason"):
                self.add_error("reason", "Choose a reason.")
            if not (cleaned.get("comment") or "").strip():
                self.add_error("comment", "Say what should change.")
        if self.action in DECISIONS and not cleaned.get("seen_version"):
            self.add_error(None, "The form did not say which version you reviewed; reload it.")
        return cleaned


class SeenForm(forms.Form):
    """`?seen=N`: the version a reviewer saw, to show what changed since."""

    seen = forms.IntegerField(min_value=1, required=False)

    def __init__(self, *args, latest: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["seen"].validators.append(MaxValueValidator(latest - 1))


class PassageIdsForm(forms.Form):
    """`?ids=12 15`: the passages one place of the reading view covers, as its marks list them."""

    MAX_IDS = 50

    ids = forms.CharField(
        max_length=20 * MAX_IDS, error_messages={"required": "Name the passages to show."}
    )

    def clean_ids(self) -> list[int]:
        words = self.cleaned_data["ids"].split()
        if not all(w.isascii() and w.isdigit() and len(w) <= 12 for w in words):
            raise forms.ValidationError("Passages are named by their numbers, separated by spaces.")
        if len(words) > self.MAX_IDS:
            raise forms.ValidationError(f"Ask for at most {self.MAX_IDS} passages at a time.")
        return sorted({int(w) for w in words})


# A refused decision sends the reviewer back; what they typed waits for them in the session.
DRAFTS_KEY = "decision_drafts"


def keep_decision_draft(request: HttpRequest, pk: int) -> None:
    drafts = request.session.get(DRAFTS_KEY, {})
    drafts[str(pk)] = {
        "reason": request.POST.get("reason", "")[:50],
        "comment": request.POST.get("comment", "")[:5000],
    }
    request.session[DRAFTS_KEY] = drafts


def decision_draft(request: HttpRequest, pk: int) -> dict | None:
    """The reason and comment a refused decision on annotation `pk` carried, once."""
    drafts = request.session.get(DRAFTS_KEY)
    if not drafts or str(pk) not in drafts:
        return None
    draft = drafts.pop(str(pk))
    request.session[DRAFTS_KEY] = drafts
    return draft


class ReattachForm(QuotePlacement):
    """An orphaned passage attached again by hand: its words as the current text has them."""

    quote = forms.CharField(
        max_length=MAX_QUOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
        help_text="The passage as the corrected text words it; select it in the reading view "
        "or type it.",
    )

    def __init__(self, *args: Any, haystack: Haystack, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_placement(haystack, None, None)

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("quote") and not self.errors and self.placed is None:
            self.add_error("quote", "This source has no text to attach the passage to.")
        return cleaned


class SourceTextForm(forms.Form):
    """A new version of a source's text: typed or pasted, or an uploaded file."""

    text = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 18, "dir": "auto", "spellcheck": "false"}),
        help_text="Paste or correct the text here, or upload a file below.",
    )
    file = forms.FileField(
        required=False,
        help_text="A .txt (UTF-8), .html or .pdf file of at most 10 MB. A PDF keeps its pages.",
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.text,.html,.htm,.xhtml,.pdf"}),
    )
    comment = forms.CharField(
        required=False,
        max_length=300,
        help_text="What changed, e.g. “fixed OCR errors on p. 12”.",
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        upload = cleaned.get("file")
        try:
            if upload:
                if upload.size > MAX_UPLOAD_BYTES:
                    raise ExtractionError(
                        f"“{upload.name}” is {filesizeformat(upload.size)}; files may be at "
                        f"most {filesizeformat(MAX_UPLOAD_BYTES)}."
                    )
                cleaned["extracted"] = extract(upload.name, upload.read())
            elif cleaned.get("text", "").strip():
                text = check_length(cleaned["text"])
                cleaned["extracted"] = Extracted(text, TextOrigin.PASTED)
            else:
                raise ExtractionError("Paste the text or choose a file.")
        except ExtractionError as error:
            self.add_error("file" if upload else "text", str(error))
        return cleaned
