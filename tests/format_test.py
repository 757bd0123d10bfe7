"""The tree is formatted by the formatter configured in pyproject.toml."""

import os
import subprocess
import sys

from absl.testing import absltest

ROOT = os.path.join(os.path.dirname(__file__), "..")
# The folders that hold Python code (README, Tests: the format command).
FORMATTED = ("ginr_jax", "configs", "tests", "tools", "launch")


def folders_with_python() -> set[str]:
  """Top-level folders with .py files, but for hidden and environment ones."""
  found = set()
  for name in os.listdir(ROOT):
    path = os.path.join(ROOT, name)
    if (name.startswith(".") or not os.path.isdir(path) or
        os.path.exists(os.path.join(path, "pyvenv.cfg"))):
      continue
    for _, _, files in os.walk(path):
      if any(f.endswith(".py") for f in files):
        found.add(name)
        break
  return found


class FormatTest(absltest.TestCase):

  def test_every_python_folder_is_formatted(self):
    self.assertContainsSubset(folders_with_python(), FORMATTED)

  def test_yapf_leaves_the_tree_unchanged(self):
    result = subprocess.run(
        [sys.executable, "-m", "yapf", "--diff", "-r", "-p", *FORMATTED],
        cwd=ROOT, capture_output=True, text=True)
    self.assertEqual(
        result.returncode, 0,
        f"run `yapf -i -r -p {' '.join(FORMATTED)}` in the repository root:\n" +
        result.stdout[-3000:] + result.stderr[-1000:])


if __name__ == "__main__":
  absltest.main()
