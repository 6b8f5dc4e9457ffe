import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { SearchHit } from "../src/common/protocol";
import { parseQuery, pickRows, relativeTo } from "../src/common/search";

const range = (line: number) => ({ start: { line, character: 0 }, end: { line, character: 5 } });

describe("search rows", () => {
  it("symbols show name and kind, text hits their first non-blank preview line", () => {
    const hits: SearchHit[] = [
      { uri: "file:///w/src/app.py", range: range(9), name: "main", kind: "function", preview: "def main():", score: 3 },
      { uri: "file:///w/src/app.py", range: range(0), preview: "\n   import os  \n", score: 1 },
      { uri: "file:///elsewhere/x.py", range: range(2), score: 0.5 },
    ];
    const rows = pickRows(hits, (uri) => relativeTo(["/w"], uri));
    assert.deepEqual(rows.map((r) => [r.label, r.description, r.detail]), [
      ["main (function)", "src/app.py:10", "def main():"],
      ["import os", "src/app.py:1", undefined],
      ["/elsewhere/x.py:3", "/elsewhere/x.py:3", undefined],
    ]);
  });

  it("relativeTo decodes file URIs and leaves other schemes alone", () => {
    assert.equal(relativeTo(["/w/"], "file:///w/a%20b.py"), "a b.py");
    assert.equal(relativeTo(["/w"], "untitled:Untitled-1"), "untitled:Untitled-1");
    assert.equal(relativeTo(["/w"], "not a uri"), "not a uri");
  });

  it("the query prefix picks the mode", () => {
    assert.deepEqual(parseQuery("#Workspace"), { query: "Workspace", mode: "symbols" });
    assert.deepEqual(parseQuery("/walker"), { query: "walker", mode: "files" });
    assert.deepEqual(parseQuery("  open(path) "), { query: "open(path)", mode: "text" });
  });
});
