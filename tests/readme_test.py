"""The README's Quick start and CI agree: .ci/run runs its test command;
every document the code and docs cite is in the repository."""

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

  def test_cited_documents_and_sections_exist(self):
    cited = re.compile(r"([\w./-]+\.md)(?:#([\w-]+))?")
    for folder in ("ginr_jax", "configs", "tests", "tools", "docs", "launch",
                   "."):
      top = os.path.join(ROOT, folder)
      for dirpath, dirnames, files in os.walk(top):
        if folder == ".":
          dirnames.clear()  # the top level's files only
        for name in files:
          if not name.endswith((".py", ".md", ".sh")):
            continue
          path = os.path.join(dirpath, name)
          where = os.path.relpath(path, ROOT)
          with open(path) as f:
            text = f.read()
          for doc, anchor in cited.findall(text):
            target = next(
                (p for p in (os.path.join(ROOT, doc),
                             os.path.join(dirpath, doc)) if os.path.exists(p)),
                None)
            self.assertIsNotNone(
                target, f"{where} cites {doc}, which is not in the repository")
            if anchor:
              with open(target) as f:
                headings = [
                    re.sub(r"[^\w -]", "", h).strip().lower().replace(" ", "-")
                    for h in re.findall(r"^#+ (.*)$", f.read(), re.M)
                ]
              self.assertIn(anchor, headings, f"{where} cites {doc}#{anchor}")


if __name__ == "__main__":
  absltest.main()
