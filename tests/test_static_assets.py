"""The committed front-end build matches the pinned npm packages and ships no GOV.UK branding.

`make assets` rebuilds static/ from package-lock.json; these checks catch a build
that was not committed after a version change, and a stylesheet that picked up the
crown, the crest, the GOV.UK logotype or the GDS Transport font.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
CSS = STATIC / "css" / "failwell.css"
PINNED = json.loads((ROOT / "package.json").read_text())["devDependencies"]


def test_every_npm_package_is_pinned_to_an_exact_version():
    for name, version in PINNED.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} {version} is not an exact version"


def test_the_lock_file_holds_the_pinned_versions():
    lock = json.loads((ROOT / "package-lock.json").read_text())
    for name, version in PINNED.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


def test_the_stylesheet_was_built_from_the_pinned_packages():
    banner = CSS.read_text(encoding="utf-8").lstrip("\ufeff").splitlines()[0]
    assert f"govuk-frontend {PINNED['govuk-frontend']}," in banner
    assert f"@ministryofjustice/frontend {PINNED['@ministryofjustice/frontend']};" in banner


@pytest.mark.parametrize("forbidden", ["@font-face", "GDS Transport", "crest", "crown", "logotype"])
def test_the_stylesheet_has_no_govuk_branding_or_font(forbidden):
    assert forbidden.lower() not in CSS.read_text(encoding="utf-8").lower()


def test_a_byte_order_mark_appears_only_as_the_first_character():
    text = CSS.read_text(encoding="utf-8")
    assert "\ufeff" not in text[1:], "a BOM inside the file breaks the rule it lands in"


def test_every_image_the_stylesheet_uses_is_shipped():
    urls = set(re.findall(r"url\(\s*[\"']?([^\"')]+)", CSS.read_text(encoding="utf-8")))
    assert urls, "expected MOJ Frontend's icons"
    for url in urls:
        assert (CSS.parent / url).resolve().is_file(), url


def test_no_branding_images_or_font_files_are_shipped():
    for path in STATIC.rglob("*"):
        name = path.name.lower()
        assert not any(word in name for word in ("crest", "crown", "logotype", "govuk-icon")), path
        assert path.suffix not in (".woff", ".woff2", ".ttf", ".otf"), path


def test_the_page_script_imports_files_that_exist():
    script = STATIC / "js" / "failwell.js"
    imports = re.findall(r'from "([^"]+)"', script.read_text())
    assert len(imports) == 2
    for target in imports:
        assert (script.parent / target).resolve().is_file(), target


def test_the_browser_tests_axe_is_the_pinned_version():
    axe = (ROOT / "tests" / "browser" / "vendor" / "axe.min.js").read_text(encoding="utf-8")
    assert axe.startswith(f"/*! axe v{PINNED['axe-core']}\n")
