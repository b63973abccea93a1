"""The command line's help and version: words in brackets survive, flags show as flags."""

from typer.testing import CliRunner

from tipcausal import __version__
from tipcausal.cli import app


def test_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"tipcausal {__version__}"


def test_help_keeps_bracketed_words_and_shows_flags_as_flags():
    for command in (["run"], ["sensitivity"], ["dag", "test"]):
        result = CliRunner().invoke(app, [*command, "--help"], terminal_width=200)
        assert result.exit_code == 0, result.output
        assert "<bool>" not in result.output, command
    run_help = CliRunner().invoke(app, ["run", "--help"], terminal_width=200).output
    assert "the study's [output] dir" in run_help
    assert "the study's [data] sources" in run_help
    flags = [line.split()[0] for line in run_help.splitlines() if line.strip().startswith("--")]
    assert {"--quiet", "--refit", "--no-store", "--allow-unconverged"} <= set(flags)
    quiet = next(line for line in run_help.splitlines() if line.strip().startswith("--quiet"))
    assert quiet.split()[:2] == ["--quiet", "No"], quiet  # no metavar between the flag and its help
    draws = next(line for line in run_help.splitlines() if line.strip().startswith("--draws"))
    assert draws.split()[:2] == ["--draws", "<int>"], draws
