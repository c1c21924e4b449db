"""Markdown in posts: what members may format, and a generated corpus of cross-site-scripting
payloads that must render with nothing executable, checked by parsing the HTML."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from hub.community import markdown
from hub.community.models import Post
from hub.community.tests.test_spaces_services import join, make_space
from hub.community.tests.xss_corpus import executable_parts, payloads, url_is_safe

CORPUS = payloads()


def test_the_corpus_is_large_and_its_checker_catches_raw_payloads():
    """At least 300 distinct payloads, and the checker sees danger in most of them unrendered
    (so a pass below means something)."""
    assert len(CORPUS) >= 300
    caught = [payload for payload in CORPUS if executable_parts(payload)]
    assert len(caught) >= 150
    assert executable_parts('<a href="&#x6A;avascript:x">x</a>')
    assert executable_parts('<p onclick="x">')
    assert not url_is_safe(" JaVa\tScRiPt:alert(1)")
    assert url_is_safe("/community/spaces/") and url_is_safe("https://example.org")
    assert url_is_safe("java%09script:alert(1)")  # no valid scheme: a relative address


def test_every_payload_renders_with_nothing_executable():
    bad = {payload: problems for payload in CORPUS
           if (problems := executable_parts(markdown.render(payload)))}
    print(f"{len(CORPUS)} payloads rendered, {len(bad)} executable")
    assert not bad


def test_markdown_formats_what_members_need():
    html = markdown.render("# Title\n\n**bold** *it* ~~gone~~ `code`\n\n> quoted\n\n"
                           "- one\n- two\n\n[site](https://example.org) <https://auto.example>"
                           "\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    for part in ("<h3>Title</h3>", "<strong>bold</strong>", "<em>it</em>", "<s>gone</s>",
                 "<code>code</code>", "<blockquote>", "<li>one</li>", "<table>", "<td>1</td>"):
        assert part in html, part
    assert html.count('rel="nofollow noopener ugc"') == 2
    assert 'href="https://example.org"' in html


def test_typed_html_is_shown_as_text():
    assert "&lt;b&gt;hi&lt;/b&gt;" in markdown.render("<b>hi</b>")


class _Bodies(HTMLParser):
    """Collects the HTML inside each ``<div class="post-body">`` of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.depth = 0
        self.bodies: list[str] = []

    def handle_starttag(self, tag, attrs):
        text = self.get_starttag_text()
        if self.depth:
            if tag == "div":
                self.depth += 1
            self.bodies[-1] += text
        elif tag == "div" and ("class", "post-body") in attrs:
            self.depth = 1
            self.bodies.append("")

    def handle_startendtag(self, tag, attrs):
        if self.depth:
            self.bodies[-1] += self.get_starttag_text()

    def handle_endtag(self, tag):
        if self.depth:
            if tag == "div":
                self.depth -= 1
                if not self.depth:
                    return
            self.bodies[-1] += f"</{tag}>"

    def handle_data(self, data):
        if self.depth:
            self.bodies[-1] += data


@pytest.mark.django_db
def test_posted_payloads_are_safe_on_the_thread_page(client):
    """Every payload posted through the reply form and read back on the thread's pages:
    each post body holds nothing executable. (The form refuses text with NUL characters
    outright, as Django's forms do.)"""
    space = make_space()
    author = join(space)
    thread = space.threads.model.objects.create(space=space, title="Payloads")
    client.force_login(author)
    url = reverse("community:post_reply", args=[space.slug, thread.pk])
    posted = [payload for payload in CORPUS if "\x00" not in payload]
    for payload in CORPUS:
        status = client.post(url, {"body": payload}).status_code
        assert status == (302 if payload in posted else 400), payload
    assert len(posted) >= 300
    assert Post.objects.filter(thread=thread).count() == len(posted)
    bodies, page = [], 1
    while True:
        response = client.get(thread.get_absolute_url(), {"page": page})
        parser = _Bodies()
        parser.feed(response.content.decode())
        bodies.extend(parser.bodies)
        if f"?page={page + 1}" not in response.content.decode():
            break
        page += 1
    assert len(bodies) == len(posted)
    bad = [body for body in bodies if executable_parts(body)]
    assert not bad, bad[:5]
