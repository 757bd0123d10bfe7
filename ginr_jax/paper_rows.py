"""The paper rows of a config: argument strings that run a setting of the
papers, each with the number the paper reports for it.

A config lists them as PAPER_ROWS (`rows`). Its docstring holds `table`
of them verbatim, and the README's "Paper rows" section `summary` of every
config's; tests/configs_test.py checks both. After editing PAPER_ROWS,
rewrite the two from the repository root:

  python -m ginr_jax.cli.paper_rows
"""

import dataclasses
import re
import textwrap

HEADER = ("Paper rows (argument: the paper's table, data: its test PSNR; "
          "from PAPER_ROWS,\nwritten here by `python -m "
          "ginr_jax.cli.paper_rows`):")
README_START = "<!-- paper rows: python -m ginr_jax.cli.paper_rows -->"
README_END = "<!-- /paper rows -->"
_WIDTH = 78  # a table line's columns at most
_ARG_COLUMN = 30  # longer arguments take a line of their own
# Where a number is in a paper: "Table 3", "Fig. 4a", "§4.4" (and plurals).
_KINDS = {"Table ": "Tables ", "Fig. ": "Figs. ", "§": "§§"}
_WHERE = re.compile(r"(Table |Fig\. |§)(\d+[a-z]?(?:\.\d+)?)")


@dataclasses.dataclass(frozen=True)
class PaperRow:
  """One number of a paper and the config argument that runs its setting.

  Attributes:
    arg: the config argument string ("" for the config's defaults).
    paper: "IPC" or "LA-GINR"; "" where no paper has the setting.
    table: where in the paper ("Table 3", "Fig. 5", "§4.4"); "" likewise.
    dataset: the data, e.g. "FFHQ 256".
    reported: the test PSNR in dB as the paper prints it (a string keeps its
      digits: 34.2, 31.00); None where it reports none.
    note: what else the number needs or where the row departs from the
      paper's protocol; without a number, what the row is instead.
  """

  arg: str
  paper: str
  table: str
  dataset: str
  reported: str | None
  note: str = ""

  def __post_init__(self):
    if (bool(self.paper) != bool(self.table) or
        self.table and not _WHERE.fullmatch(self.table)):
      raise ValueError(f"Paper row {self.arg!r}: paper {self.paper!r}, "
                       f"table {self.table!r}; give both (a table as "
                       '"Table 3", "Fig. 4a" or "§4.4") or neither.')
    if self.reported is None and not self.note:
      raise ValueError(f"Paper row {self.arg!r} has no number: its note "
                       "says what it is instead.")
    if self.reported is not None and not re.fullmatch(r"\d+\.\d+",
                                                      self.reported):
      raise ValueError(
          f"Paper row {self.arg!r}: reported {self.reported!r} is no PSNR in dB."
      )

  def description(self) -> str:
    where = " ".join(filter(None, (self.paper, self.table)))
    text = f"{where}, {self.dataset}" if where else self.dataset
    if self.reported is None:
      return f"{text}: {self.note}"
    return f"{text}: {self.reported} dB" + (f"; {self.note}"
                                            if self.note else "")


def rows(*entries: tuple) -> tuple[PaperRow, ...]:
  """PaperRows from (arg, paper, table, dataset, reported[, note]) tuples."""
  return tuple(PaperRow(*entry) for entry in entries)


def args(paper_rows) -> tuple[str, ...]:
  """The distinct argument strings of `paper_rows`, in order."""
  return tuple(dict.fromkeys(row.arg for row in paper_rows))


def table(paper_rows) -> str:
  """The docstring's table: HEADER, then each row's argument and what the
  paper reports for it, wrapped at _WIDTH columns."""
  column = min(_ARG_COLUMN, max(len(row.arg or "(none)") for row in paper_rows))
  lines = HEADER.splitlines()
  for row in paper_rows:
    arg = row.arg or "(none)"
    indent = " " * (column + 4)
    text = textwrap.wrap(row.description(), _WIDTH - len(indent),
                         break_on_hyphens=False)
    if len(arg) > column:
      lines.append(f"  {arg}")
    else:
      lines.append(f"  {arg:<{column}}  {text.pop(0)}")
    lines += [indent + line for line in text]
  return "\n".join(lines)


def _cited(paper_rows) -> str:
  """The tables `paper_rows` cite, e.g. "IPC Tables 2, 6; LA-GINR Fig. 1"."""
  found = {}  # paper -> kind -> numbers
  for row in paper_rows:
    if row.paper:
      kind, number = _WHERE.fullmatch(row.table).groups()
      found.setdefault(row.paper, {}).setdefault(kind, set()).add(number)

  def natural(number):  # 4a before 10, 4.4 before 4.10
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", number)]

  parts = []
  for paper, kinds in sorted(found.items()):
    refs = [(_KINDS[kind] if len(kinds[kind]) > 1 else kind) +
            ", ".join(sorted(kinds[kind], key=natural))
            for kind in _KINDS
            if kind in kinds]
    parts.append(f"{paper} {', '.join(refs)}")
  return "; ".join(parts)


def summary(paper_rows_by_config: dict[str, tuple]) -> str:
  """The README's list: each config's argument strings, the numbers the
  papers report for them, and where."""
  lines = [
      README_START, "| Config | Rows | Numbers | From |", "|---|---|---|---|"
  ]
  for name, paper_rows in paper_rows_by_config.items():
    numbers = sum(row.reported is not None for row in paper_rows)
    lines.append(f"| `configs/{name}.py` | {len(args(paper_rows))} | "
                 f"{numbers} | {_cited(paper_rows)} |")
  return "\n".join(lines + [README_END])


def with_table(text: str, paper_rows) -> str:
  """A config file's `text` with its docstring's table made `table`."""
  # From HEADER to the next blank line, never past the docstring's end.
  block = re.compile(
      re.escape(HEADER.splitlines()[0]) + r'(?:(?!""").)*?(?=\n\n)', re.S)
  if not block.search(text):
    raise ValueError(f"No table to rewrite: its first line is {HEADER!r}.")
  return block.sub(lambda _: table(paper_rows), text, count=1)


def with_summary(text: str, paper_rows_by_config: dict[str, tuple]) -> str:
  """The README's `text` with its list made `summary`."""
  block = re.compile(
      re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
  if not block.search(text):
    raise ValueError(f"No list to rewrite: it starts {README_START!r}.")
  return block.sub(lambda _: summary(paper_rows_by_config), text, count=1)
