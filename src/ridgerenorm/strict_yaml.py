"""Reading a configuration file strictly: each problem of the file itself is one line naming file and line.

PyYAML (and so Snakemake) keeps the last of two equal keys without a word, so a second `b2_isotropic:` in
`experiments` silently replaces the first.  Here the file is composed into YAML nodes first, every mapping
is checked for repeated keys (with the line of the repeat), and only then are the nodes turned into Python
objects.  A syntax error is reported with file, line and column; an empty file, a file whose top level is
not a mapping, and a missing file are errors too.  JSON files are read the same way (JSON is YAML).
"""

from __future__ import annotations

import os

import yaml

from .errors import ConfigError, short_repr

__all__ = ["read_config_file"]

_MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_VALUES = 1_000_000  # values a file may expand to (aliases repeat nodes: "billion laughs")


def _fail(where: str, why: str) -> ConfigError:
    return ConfigError(f"config error: {where}: {' '.join(why.split())}")


def _syntax_error(name: str, err: yaml.YAMLError) -> ConfigError:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    context = getattr(err, "context", None)
    why = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    if mark is not None:
        return _fail(f"{name}:{mark.line + 1}:{mark.column + 1}", why)
    return _fail(name, why)


def _key_value(loader: yaml.SafeLoader, node: yaml.Node):
    """The Python value of a mapping key node (None for keys that are not plain hashable values)."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    return loader.construct_object(node)


def _check_duplicates(loader: yaml.SafeLoader, node: yaml.Node, name: str, path=(), ancestors=None,
                      checked=None) -> None:
    """Raise ConfigError at the first key repeated within one mapping, anywhere below `node`.  A node that
    aliases repeat is checked once (`checked`), so nested aliases cannot make the walk exponential."""
    ancestors = set() if ancestors is None else ancestors
    checked = set() if checked is None else checked
    if id(node) in checked:
        return
    if id(node) in ancestors:
        line = node.start_mark.line + 1
        raise _fail(f"{name}:{line}", f"recursive alias in {'.'.join(map(str, path)) or 'the top level'}")
    if isinstance(node, yaml.MappingNode):
        ancestors = ancestors | {id(node)}
        seen = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                _check_duplicates(loader, value_node, name, path, ancestors, checked)
                continue
            key = _key_value(loader, key_node)
            if key is not None:
                where = ".".join(map(str, path)) or "the top level"
                if key in seen:
                    line = key_node.start_mark.line + 1
                    raise _fail(f"{name}:{line}", f"duplicate key {short_repr(key)} in {where} "
                                                  f"(first given on line {seen[key]})")
                seen[key] = key_node.start_mark.line + 1
            _check_duplicates(loader, value_node, name, path + (key,), ancestors, checked)
    elif isinstance(node, yaml.SequenceNode):
        ancestors = ancestors | {id(node)}
        for i, item in enumerate(node.value):
            _check_duplicates(loader, item, name, path + (i,), ancestors, checked)
    checked.add(id(node))


def _expanded_size(node: yaml.Node, memo: dict) -> int:
    """Number of values `node` expands to once aliases are repeated (each node counted once per use)."""
    if id(node) not in memo:
        memo[id(node)] = 1  # a recursive alias counts once; _check_duplicates reports it
        if isinstance(node, yaml.MappingNode):
            memo[id(node)] += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            memo[id(node)] += sum(_expanded_size(item, memo) for item in node.value)
    return memo[id(node)]


def shown(path) -> str:
    """How a file is named in messages: relative to the working directory when inside it, else absolute,
    normalized either way, so `ridgerenorm check-config` and Snakemake (which makes --configfile paths
    absolute) name a file the same."""
    full = os.path.normpath(os.path.abspath(os.fspath(path)))
    here = os.getcwd()
    return os.path.relpath(full, here) if full.startswith(here.rstrip(os.sep) + os.sep) else full


def _read_text(path) -> str:
    name = shown(path)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise _fail(name, "no such file") from None
    except IsADirectoryError:
        raise _fail(name, "is a directory, not a config file") from None
    except UnicodeDecodeError as err:
        raise _fail(name, f"not a UTF-8 text file ({err.reason} at byte {err.start})") from None
    except OSError as err:
        raise _fail(name, f"cannot be read ({err.strerror or err})") from None


def read_config_file(path) -> dict:
    """The mapping in config file `path` (YAML or JSON); ConfigError (one line) for a missing, unreadable,
    empty or non-mapping file, a syntax error, or a key repeated within one mapping."""
    name = shown(path)
    text = _read_text(path)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise _fail(name, "empty (expected a mapping of config keys such as scale, experiments, figures)")
        _check_duplicates(loader, node, name)
        size = _expanded_size(node, {})
        if size > MAX_VALUES:
            raise _fail(name, f"expands to {size:.3g} values through YAML aliases (at most {MAX_VALUES:,})")
        data = loader.construct_document(node)
    except yaml.YAMLError as err:
        raise _syntax_error(name, err) from None
    except RecursionError:
        raise _fail(name, "nested too deeply") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise _fail(name, f"the top level is a {type(data).__name__}, expected a mapping of config keys "
                          "(scale, experiments, figures, ...)")
    return data
