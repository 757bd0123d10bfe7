"""notebooks/explore.ipynb runs top to bottom in a real Jupyter kernel, in
its smoke mode (GINR_NOTEBOOK_SMOKE=1: every training and optimisation
cell shrinks to seconds), with the shipped models."""

import os

from absl.testing import absltest
import nbclient
import nbformat
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(ROOT, "notebooks", "explore.ipynb")


# About a minute on 2 cores: a kernel start, the shipped models'
# compilations and a short training run.
@pytest.mark.slow
class NotebookTest(absltest.TestCase):

  def test_runs_top_to_bottom(self):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    os.environ["GINR_NOTEBOOK_SMOKE"] = "1"  # the kernel inherits it
    try:
      nbclient.NotebookClient(
          notebook, timeout=600, kernel_name="python3",
          resources={"metadata": {"path": os.path.dirname(NOTEBOOK)}
                    }).execute()
    finally:
      del os.environ["GINR_NOTEBOOK_SMOKE"]
    outputs = [
        o for cell in notebook.cells if cell.cell_type == "code"
        for o in cell.outputs
    ]
    self.assertFalse([o for o in outputs if o.output_type == "error"])
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    self.assertGreaterEqual(len(figures), 5)
    text = "".join(o.get("text", "") for o in outputs)
    self.assertIn("error: images of shape (512, 512)", text)
    self.assertIn("mean footprint", text)


if __name__ == "__main__":
  absltest.main()
