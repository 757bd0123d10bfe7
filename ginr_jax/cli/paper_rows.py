"""Rewrites the configs' paper-row tables and the README's list of them
from every config's PAPER_ROWS (`paper_rows.py`); run from the repository
root:

  python -m ginr_jax.cli.paper_rows
"""

import glob
import importlib.util
import os

from ginr_jax import paper_rows as paper_rows_lib


def load(config_dir: str) -> dict[str, tuple]:
  """{config name: its PAPER_ROWS} of the configs in `config_dir` that
  have them, by name."""
  found = {}
  for path in sorted(glob.glob(os.path.join(config_dir, "*.py"))):
    name = os.path.basename(path)[:-3]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if hasattr(module, "PAPER_ROWS"):
      found[name] = module.PAPER_ROWS
  return found


def main():
  found = load("configs")
  paths = {
      os.path.join("configs", f"{name}.py"):
          (paper_rows_lib.with_table, paper_rows)
      for name, paper_rows in found.items()
  }
  paths["README.md"] = (paper_rows_lib.with_summary, found)
  for path, (rewrite, data) in paths.items():
    with open(path) as f:
      text = f.read()
    new = rewrite(text, data)
    if new != text:
      with open(path, "w") as f:
        f.write(new)
      print(f"rewrote {path}")


if __name__ == "__main__":
  main()
