"""The operator's catalogue pages: every document type with its versions, and publishing a new version.

A new version is pasted or uploaded as JSON, checked exactly as the built-in files are
(:mod:`blauweknop.scheme.catalogue.versions`), shown with what changes, and published only after
"Weet u het zeker?". Everything works without JavaScript.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from blauweknop import i18n
from blauweknop.document_types import DocumentType
from blauweknop.scheme.catalogue import versions
from blauweknop.scheme.staff import operator_required


class VersionForm(forms.Form):
    """The new version: pasted as text, or a file chosen."""

    definitie = forms.CharField(
        label=gettext_lazy("Plak de nieuwe versie (JSON)"),
        help_text=gettext_lazy(
            "Dezelfde vorm als de bestanden van de catalogus. Met dezelfde id, een hoger versienummer "
            "en een vct die eindigt op dat nummer."
        ),
        required=False,
        strip=False,
        max_length=versions.MAX_DEFINITION,
        error_messages={"max_length": gettext_lazy("De tekst is te lang. Hoogstens %(limit_value)d tekens.")},
        widget=forms.Textarea,
    )
    bestand = forms.FileField(
        label=gettext_lazy("Of kies een bestand (.json)"),
        help_text=gettext_lazy("Kiest u een bestand, dan laat u het tekstvak leeg."),
        required=False,
    )

    def clean_bestand(self) -> str | None:
        upload = self.cleaned_data.get("bestand")
        if upload is None:
            return None
        if upload.size > versions.MAX_DEFINITION:
            message = _("Het bestand is te groot. Hoogstens %(max)d kB mag.")
            raise forms.ValidationError(message % {"max": versions.MAX_DEFINITION // 1024})
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("Dit bestand is geen tekst (UTF-8). Kies het .json-bestand.")) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        pasted, uploaded = cleaned.get("definitie", ""), cleaned.get("bestand")
        if pasted.strip() and uploaded is not None:
            raise forms.ValidationError(_("Plak de tekst of kies een bestand, niet allebei."))
        if not pasted.strip() and uploaded is None:
            self.add_error("definitie", _("Plak de nieuwe versie, of kies een bestand."))
            return cleaned
        where = "bestand" if uploaded is not None else "definitie"
        try:
            definition = json.loads(uploaded if uploaded is not None else pasted)
        except json.JSONDecodeError as exc:
            message = _("Dit is geen JSON. Kijk bij regel %(line)d, teken %(column)d.")
            self.add_error(where, message % {"line": exc.lineno, "column": exc.colno})
            return cleaned
        except RecursionError:
            self.add_error(where, _("Dit is geen JSON die wij lezen: het zit te diep in elkaar."))
            return cleaned
        try:
            cleaned["document_type"] = versions.checked(definition)
        except versions.PublishRefused as exc:
            self.add_error(where, exc.message)
        return cleaned


@dataclass(frozen=True)
class Changes:
    """What a new version changes compared with the newest one, in the page's language, for the confirm step."""

    added: list[str]  # the new fields' labels
    removed: list[str]
    relabelled: list[tuple[str, str]]  # (the label now, the new label) of fields with other words


def changes(newest: DocumentType, new: DocumentType, language: str) -> Changes:
    """The fields ``new`` adds, the ones it drops, and the ones it gives other words than ``newest``."""
    kept = [(old, new.field(old.path)) for old in newest.fields]
    return Changes(
        added=[f.label[language] for f in new.fields if newest.field(f.path) is None],
        removed=[old.label[language] for old, now in kept if now is None],
        relabelled=[
            (old.label[language], now.label[language])
            for old, now in kept
            if now is not None and (old.label, old.help, old.values) != (now.label, now.help, now.values)
        ],
    )


def _newest(type_id: str) -> DocumentType:
    return max((v.document_type for v in versions.listed() if v.document_type.id == type_id), key=lambda t: t.version)


@operator_required
def catalogue(request: HttpRequest) -> HttpResponse:
    """Every document type, each with the versions the scheme document lists, the newest first."""
    language, listed = i18n.language(), versions.listed()  # by type, then version
    types = [
        {"id": group[-1].document_type.id, "name": group[-1].document_type.name[language], "versions": group[::-1]}
        for group in (list(g) for _id, g in groupby(listed, key=lambda v: v.document_type.id))
    ]
    return render(request, "scheme/catalogue.html", {"types": types})


@operator_required
@require_http_methods(["GET", "POST"])
def new_version(request: HttpRequest) -> HttpResponse:
    """A new version in two parts: paste or upload, checked and shown; then "Weet u het zeker?"; only then published."""
    if request.method != "POST":
        return render(request, "scheme/catalogue_new.html", {"form": VersionForm()})
    form = VersionForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "scheme/catalogue_new.html", {"form": form}, status=400)
    document_type: DocumentType = form.cleaned_data["document_type"]
    if request.POST.get("confirmed") != "ja":
        newest, language = _newest(document_type.id), i18n.language()
        context = {
            "document_type": document_type,
            "name": document_type.name[language],
            "newest": newest,
            "changes": changes(newest, document_type, language),
            "definition": json.dumps(document_type.publish(), ensure_ascii=False),
        }
        return render(request, "scheme/catalogue_confirm.html", context)
    try:
        versions.publish_version(document_type.publish(), actor=request.user.get_username())
    except versions.PublishRefused as exc:  # another operator published in the meantime
        form.add_error("definitie", exc.message)
        return render(request, "scheme/catalogue_new.html", {"form": form}, status=409)
    message = _("Gepubliceerd: %(name)s, versie %(version)d. Het staat in het logboek en in het stelseldocument.")
    messages.info(request, message % {"name": document_type.name[i18n.language()], "version": document_type.version})
    return redirect("scheme:catalogue")


@operator_required
@require_GET
def download(request: HttpRequest, type_id: str, version: int) -> HttpResponse:
    """One listed version as a file, in the form the new-version page takes: a start for the next version."""
    found = next(
        (
            v.document_type
            for v in versions.listed()
            if (v.document_type.id, v.document_type.version) == (type_id, version)
        ),
        None,
    )
    if found is None:
        raise Http404
    response = JsonResponse(found.publish(), json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{found.id}-{found.version}.json"'
    return response


urlpatterns: list[URLPattern] = [
    path("", catalogue, name="catalogue"),
    path("nieuwe-versie/", new_version, name="catalogue-new"),
    path("<slug:type_id>/<int:version>.json", download, name="catalogue-download"),
]
