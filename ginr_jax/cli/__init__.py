"""The command-line programs, one module each (`python -m ginr_jax.cli.X`),
and one line for the errors a user can fix.

A program holds its flags, `main` and what only it uses; what the API or
the notebook use too lives in the library modules. The programs that train
or evaluate restart first with `host_memory`'s malloc tuning, before they
import JAX. Every program ends with `cli.run(main)` instead of absl's
`app.run(main)`. An expected error -- a bad flag, config file, config
argument or override, bad data, a bad workdir, a missing checkpoint --
prints `error: <what is wrong and what to do>` as one line on stderr and
exits with status 1, without a traceback. Library code raises `UserError`
(or a subclass) for these; any other exception is a bug and keeps its
traceback.
"""

import difflib
import os
import re
import sys

from absl import app
from absl import flags
import ml_collections
from ml_collections.config_flags import config_flags

# The config-file flag of every entry point.
CONFIG_FLAG = "config"


class UserError(Exception):
  """An error the user can fix; its message says how."""


class ConfigError(UserError, ValueError):
  """A bad config value or argument (a ValueError, as before it existed)."""


class NotFoundError(UserError, FileNotFoundError):
  """A missing dataset, workdir, checkpoint or file."""


class ExistsError(UserError, FileExistsError):
  """An output that exists and is not overwritten."""


class NonFiniteLossError(UserError, FloatingPointError):
  """Training diverged; the message names the last good checkpoint."""


def fail(message: str):
  """Prints `error: message` (its lines joined) to stderr; exits with 1."""
  lines = [line.strip() for line in str(message).splitlines()]
  sys.stderr.write("error: " + "; ".join(l for l in lines if l) + "\n")
  sys.exit(1)


def run(main):
  """absl's `app.run(main)`, with user errors reported on one line."""

  def checked_main(argv):
    try:
      return main(argv)
    except UserError as e:
      fail(str(e))

  app.run(checked_main, flags_parser=parse_flags)


def parse_flags(argv: list[str]) -> list[str]:
  """absl's flag parsing; a bad flag, config file or override fails in one
  line (ml_collections would print a traceback for most of them)."""
  try:
    rest = flags.FLAGS(argv)
  except flags.Error as e:
    fail(_flag_error(str(e), argv))
  except (AttributeError, KeyError):  # ml_collections: an unknown override
    message = unknown_override(argv)
    if message is None:
      raise
    fail(message)
  if CONFIG_FLAG in flags.FLAGS:
    config = flags.FLAGS[CONFIG_FLAG].value
    try:  # a config file that failed to load raises on first access
      getattr(config, "keys", None)
    except OSError:
      path = _config_arg(argv).split(":", 1)[0]
      fail(f"--{CONFIG_FLAG}={path}: no such config file; pass one of "
           "configs/*.py (with :arg where it takes one).")
  return rest


def _flag_error(message: str, argv: list[str]) -> str:
  """The one-line form of absl's / ml_collections' flag error message."""
  message = message.removeprefix("flag ")
  if "Error whilst parsing config file" in message:
    # get_config raised: its traceback is in the message, the error last.
    last = [l for l in message.splitlines() if l.strip()][-1].strip()
    return f"--{CONFIG_FLAG}={_config_arg(argv)}: " + re.sub(
        r"^[\w.]*(Error|Exception): ", "", last)
  match = re.match(rf"--{CONFIG_FLAG}\.([\w.]+)=", message)
  config = _load_config(argv)
  if match and config is not None:
    try:
      default = _lookup(config, match.group(1).split("."))
    except KeyError:
      return message
    return (f"{message.splitlines()[0]}; --{CONFIG_FLAG}.{match.group(1)} "
            f"takes a value like its default, {default!r}.")
  return message.splitlines()[0]


def _config_arg(argv: list[str]) -> str:
  """The --config value on the command line ("" without one)."""
  for i, arg in enumerate(argv):
    if arg.startswith(f"--{CONFIG_FLAG}="):
      return arg.split("=", 1)[1]
    if arg == f"--{CONFIG_FLAG}" and i + 1 < len(argv):
      return argv[i + 1]
  return ""


def _load_config(argv: list[str]) -> ml_collections.ConfigDict | None:
  """The config file of the command line loaded again (None if it fails)."""
  arg = _config_arg(argv)
  if not arg or not os.path.exists(arg.split(":", 1)[0]):
    return None
  try:
    return config_flags.ConfigFileFlagParser(CONFIG_FLAG).parse(arg)
  except Exception:  # pylint: disable=broad-except
    return None  # parse_flags reports the error itself


def _lookup(config, path: list[str]):
  node = config
  for part in path:
    if not isinstance(node,
                      (dict, ml_collections.ConfigDict)) or (part not in node):
      raise KeyError(part)
    node = node[part]
  return node


def unknown_override(argv: list[str]) -> str | None:
  """The message for the first `--config.a.b=...` that names no key of the
  config file, or None if every override names one."""
  config = _load_config(argv)
  if config is None:
    return None
  for arg in argv:
    match = re.match(rf"--(?:no)?{CONFIG_FLAG}\.([^=]+)", arg)
    if not match:
      continue
    path = match.group(1).split(".")
    for depth in range(len(path)):
      node = _lookup(config, path[:depth])
      if not isinstance(node, (dict, ml_collections.ConfigDict)):
        return None  # an index into a value: ml_collections' own error
      if path[depth] in node:
        continue
      parent = ".".join(path[:depth])
      keys = sorted(node.keys())
      close = difflib.get_close_matches(path[depth], keys, n=1)
      hint = f"did you mean {close[0]!r}? " if close else ""
      return (f"unknown config key {'.'.join(path[: depth + 1])!r} in {arg}; "
              f"{hint}valid keys of {parent or CONFIG_FLAG}: "
              f"{', '.join(keys)}.")
  return None
