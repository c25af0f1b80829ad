"""Every option and argument of every `ridgerenorm` subcommand says what it is in --help."""

import argparse

import pytest

from ridgerenorm import cli


def subparsers():
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, action.choices


def test_every_subcommand_has_help():
    parser, subs = subparsers()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert {c.dest for c in action._choices_actions} == set(subs)
    assert all(c.help for c in action._choices_actions)
    assert all(a.help for a in parser._actions)


@pytest.mark.parametrize("name", sorted(subparsers()[1]))
def test_every_argument_has_help(name):
    sub = subparsers()[1][name]
    missing = [a.option_strings[0] if a.option_strings else a.dest for a in sub._actions
               if not a.help or a.help == argparse.SUPPRESS]
    assert missing == [], f"ridgerenorm {name}: no help for {missing}"
    sub.format_help()  # every help string formats (no stray % placeholders)
