"""The demo CRM validates and the basic commands answer."""

from generator import __version__


def test_demo_contacts_are_valid(cli, demo_root):
    result = cli(demo_root, "check")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "12 contact files, 5 applications, 0 errors, 0 warnings"


def test_version(cli):
    result = cli(None, "--version")
    assert result.stdout.strip() == f"crm (Tipscale) {__version__}"
