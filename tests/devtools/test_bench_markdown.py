import json

from devtools import bench


def test_bench_page_renders_every_section_from_its_json():
    results = json.loads((bench.DOCS / "bench.json").read_text())
    page = bench.to_markdown(results)
    headings = (
        "## The incident replay",
        "## Cloud Custodian",
        "## Issue 22's loops",
        "## A month of legitimate traffic",
        "## The central path of an organization",
        "## Cold import",
    )
    for heading in (*headings, "## Recursion guard", "## Invocation scan"):
        assert heading in page
    assert "(d) Runaway Guardrail" in page
    assert page == (bench.DOCS / "bench.md").read_text()
