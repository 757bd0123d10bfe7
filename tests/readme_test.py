"""The README's Quick start and CI agree: .ci/run runs its test command."""

import os
import re

from absl.testing import absltest

ROOT = os.path.join(os.path.dirname(__file__), "..")


def read(path):
  with open(os.path.join(ROOT, path)) as f:
    return f.read()


class ReadmeTest(absltest.TestCase):

  def test_quick_start_is_two_commands_and_ci_runs_the_test_one(self):
    quick_start = read("README.md").split("## Quick start", 1)[1]
    quick_start = quick_start.split("\n## ", 1)[0]
    commands = re.findall(r"```\n(.*?)\n```", quick_start, re.S)
    self.assertLen(commands, 2)
    demo, tests = commands
    self.assertIn("configs/demo.py", demo)
    self.assertTrue(os.path.exists(os.path.join(ROOT, "configs", "demo.py")))
    self.assertIn("pytest", tests)
    ci_lines = read(".ci/run").splitlines()
    self.assertIn(tests, ci_lines)


if __name__ == "__main__":
  absltest.main()
