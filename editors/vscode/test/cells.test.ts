import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { cellAt, cellSource, commentLeader, findCells, nextCodeCell } from "../src/common/cells";

const source = [
  "import os",            // 0  implicit cell before the first marker
  "",                     // 1
  "# %% Load data",       // 2
  "x = 1",                // 3
  "print(x)",             // 4
  "",                     // 5
  "# %% [markdown]",      // 6
  "# Some notes",         // 7
  "#%%",                  // 8  no space after '#'
  "y = x + 1",            // 9
  "",                     // 10
];

describe("cells", () => {
  it("finds the implicit first cell, titled cells, markdown cells and bare markers", () => {
    const cells = findCells(source);
    assert.deepEqual(cells.map((c) => [c.startLine, c.endLine, c.kind, c.title, c.hasMarker]), [
      [0, 1, "code", "", false],
      [2, 5, "code", "Load data", true],
      [6, 7, "markdown", "", true],
      [8, 10, "code", "", true],
    ]);
  });

  it("a file without markers is one cell", () => {
    assert.deepEqual(findCells(["a = 1", "b = 2"]).map((c) => [c.startLine, c.endLine, c.hasMarker]), [[0, 1, false]]);
  });

  it("blank lines before the first marker make no cell", () => {
    assert.equal(findCells(["", "  ", "# %%", "a"])[0]!.startLine, 2);
  });

  it("cellAt finds the cell containing a line, marker line included", () => {
    assert.equal(cellAt(source, 2)!.title, "Load data");
    assert.equal(cellAt(source, 4)!.title, "Load data");
    assert.equal(cellAt(source, 7)!.kind, "markdown");
    assert.equal(cellAt(source, 10)!.startLine, 8);
    assert.equal(cellAt(source, 11), undefined);
    assert.equal(cellAt(source, -1), undefined);
  });

  it("cellSource is the body without the marker and trailing blank lines", () => {
    assert.equal(cellSource(source, cellAt(source, 3)!), "x = 1\nprint(x)");
    assert.equal(cellSource(source, cellAt(source, 0)!), "import os");
  });

  it("nextCodeCell skips markdown cells", () => {
    assert.equal(nextCodeCell(source, 3)!.startLine, 8);
    assert.equal(nextCodeCell(source, 9), undefined);
  });

  it("C-family languages use // %%, and # %% is not a marker there", () => {
    assert.equal(commentLeader("typescript"), "//");
    assert.equal(commentLeader("python"), "#");
    const ts = ["const a = 1;", "// %% second", "console.log(a);", "# %% not a marker"];
    assert.deepEqual(findCells(ts, "typescript").map((c) => [c.startLine, c.endLine]), [[0, 0], [1, 3]]);
  });

  it("an empty document is one empty cell", () => {
    assert.deepEqual(findCells([]).map((c) => [c.startLine, c.endLine]), [[0, 0]]);
  });
});
