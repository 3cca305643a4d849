"""The concept matrix page and its CSV export (the counting is in apps/xref/matrix.py)."""

import csv
from collections.abc import Iterator

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_safe

from apps.accounts.models import Membership
from apps.accounts.policy import project_view
from apps.claims.models import Concept
from apps.xref.forms import MatrixForm
from apps.xref.matrix import Axis, Matrix, build_matrix, spreadsheet_safe

# The most rows one export holds; past it the file says how many it left out.
CSV_ROW_LIMIT = 20_000
COLUMN_PAGES = {
    Axis.CONCEPTS: "xref:concept_detail",
    Axis.PEOPLE: "xref:person_detail",
    Axis.CLAIMS: "xref:claim_detail",
}


def _form(request: HttpRequest, membership: Membership) -> MatrixForm:
    # The codebook is small; loaded once, it gives the form its choices and subtrees and the
    # concept columns their labels.
    concepts = list(Concept.objects.for_project(membership.project).only("id", "name", "parent"))
    return MatrixForm(request.GET, membership=membership, concepts=concepts)


@require_safe
@project_view()
def matrix(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = _form(request, membership)
    table = page = None
    rows = []
    passages_url = reverse("annotations:annotation_list", args=[membership.project.slug])
    scope = ""
    if form.is_valid():
        if membership.may.annotate:
            # Links say which passages they count, whatever the member's default scope.
            scope = f"scope={form.cleaned_data['scope']}&"
        table = build_matrix(membership, form.query(), list(form.concepts.values()))
        paginator = Paginator(table.rows, form.cleaned_data["per_page"])
        number = form.cleaned_data["page"]
        if number > paginator.num_pages:
            pages = paginator.num_pages
            form.add_error(
                "page",
                f"There {'is' if pages == 1 else 'are'} only {pages} page{pluralize(pages)} "
                "of rows.",
            )
            table = None
        else:
            page = paginator.page(number)
            rows = table.rows_for(page.object_list)
            for row in rows:
                row.link = f"{passages_url}?{scope}source={row.source.pk}&{table.query.info.param}="
    return render(
        request,
        "xref/matrix.html",
        {
            "membership": membership,
            "project": membership.project,
            "form": form,
            "axes": Axis.choices,
            "matrix": table,
            "page": page,
            "rows": rows,
            "passages_url": passages_url,
            "scope_query": scope,
            "column_page": COLUMN_PAGES[table.query.axis] if table else None,
        },
    )


@require_safe
@project_view()
def matrix_csv(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The matrix as CSV: every row of the filter (up to CSV_ROW_LIMIT), the columns shown."""
    form = _form(request, membership)
    if not form.is_valid():
        problems = [
            f"{form.fields[name].label or name}: {message}" if name != "__all__" else message
            for name, messages in form.errors.items()
            for message in messages
        ]
        return HttpResponseBadRequest(
            "\n".join(problems) + "\n", content_type="text/plain; charset=utf-8"
        )
    table = build_matrix(membership, form.query(), list(form.concepts.values()))
    response = StreamingHttpResponse(_csv_lines(table), content_type="text/csv; charset=utf-8")
    filename = f"{membership.project.slug}-matrix-{table.query.axis}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class _Line:
    """A file-like object whose write() hands the line back, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(table: Matrix) -> Iterator[str]:
    writer = csv.writer(_Line())
    labels = [spreadsheet_safe(column.label) for column in table.columns]
    yield writer.writerow(["Citation key", "Title", "Authors", "Year", "Passages", *labels])
    for row in table.export_rows(CSV_ROW_LIMIT):
        source = row.source
        yield writer.writerow(
            [
                spreadsheet_safe(source.citation_key),
                spreadsheet_safe(source.title),
                spreadsheet_safe("; ".join(row.authors)),
                source.issued_year if source.issued_year is not None else "",
                row.total,
                *(c.count for c in row.cells),
            ]
        )
    left_out = len(table.rows) - CSV_ROW_LIMIT
    if left_out > 0:
        yield writer.writerow(
            ["", f"{left_out} more rows left out: an export holds {CSV_ROW_LIMIT} rows at most."]
        )
