"""Only the demo says that everyone in it is made up: a real portal must not (the split deployment showed it)."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

NOTICE = "Dit is een demo. Alle organisaties en personen zijn verzonnen."


@pytest.mark.parametrize(("demo", "shown"), [(True, True), (False, False)])
def test_the_demo_notice_is_on_the_pages_of_the_demo_only(settings, demo, shown):
    settings.DEMO = demo
    page = render_to_string("404.html", request=RequestFactory().get("/nergens/"))
    assert (NOTICE in page) is shown
