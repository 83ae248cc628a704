"""Markdown is rendered then sanitised with an allowlist: scripts never survive."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casestudies.models import render_markdown

ATTACKS = [
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x]( javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<svg onload="alert(1)"><circle/></svg>',
    '<p onclick="alert(1)">x</p>',
    '<iframe src="https://evil.example"></iframe>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="vbscript:msgbox(1)">x</a>',
]


def assert_inert(html: str) -> None:
    lowered = html.lower()
    for bad in (
        "<script",
        "javascript:",
        "vbscript:",
        "data:text",
        "onerror",
        "onload",
        "onclick",
        "<iframe",
        "<svg",
        "<img",
    ):
        assert bad not in lowered, (bad, html)


@pytest.mark.parametrize("attack", ATTACKS)
def test_known_attacks_are_rendered_inert(attack: str) -> None:
    assert_inert(str(render_markdown(attack)))


def test_ordinary_markdown_survives() -> None:
    html = str(
        render_markdown("**Bold** and [a link](https://example.org)\n\n- one\n- two")
    )
    assert "<strong>Bold</strong>" in html
    assert 'href="https://example.org"' in html
    assert "<li>one</li>" in html


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            list("<>\"'=/:;&#()[]{} javscriptJAVSCRIPTonerrlad1x")
        ),
        max_size=120,
    )
)
def test_any_text_renders_without_script(text: str) -> None:
    assert_inert(str(render_markdown(text)))
