"""The tree is formatted by the formatter configured in pyproject.toml."""

import os
import subprocess
import sys

from absl.testing import absltest

ROOT = os.path.join(os.path.dirname(__file__), "..")


class FormatTest(absltest.TestCase):
  def test_ruff_format_leaves_the_tree_unchanged(self):
    result = subprocess.run(
      [sys.executable, "-m", "ruff", "format", "--check", "--diff", "."],
      cwd=ROOT,
      capture_output=True,
      text=True,
    )
    self.assertEqual(
      result.returncode,
      0,
      "run `ruff format .` in the repository root:\n" + result.stdout[-3000:],
    )


if __name__ == "__main__":
  absltest.main()
