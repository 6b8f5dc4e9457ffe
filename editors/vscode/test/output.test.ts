import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { outputText, runSummary, stripAnsi } from "../src/common/output";

describe("kernel output", () => {
  it("streams, results and display data become text with a final newline", () => {
    assert.equal(outputText({ output_type: "stream", name: "stdout", text: "hello\n" }), "hello\n");
    assert.equal(outputText({ output_type: "stream", name: "stdout", text: ["a", "b"] }), "ab\n");
    assert.equal(outputText({ output_type: "execute_result", data: { "text/plain": "42" } }), "42\n");
    assert.equal(outputText({ output_type: "display_data", data: { "image/png": "iVBOR" } }), "[image/png output]\n");
    assert.equal(outputText({ output_type: "display_data", data: {} }), "");
  });

  it("errors show the traceback without terminal colours", () => {
    const text = outputText({
      output_type: "error", ename: "ZeroDivisionError", evalue: "division by zero",
      traceback: ["\u001b[0;31mZeroDivisionError\u001b[0m Traceback", "\u001b[1;32m----> 1\u001b[0m 1/0"],
    });
    assert.equal(text, "ZeroDivisionError Traceback\n----> 1 1/0\n");
    assert.equal(outputText({ output_type: "error", ename: "E", evalue: "v" }), "E: v\n");
  });

  it("stripAnsi leaves plain text alone", () => {
    assert.equal(stripAnsi("a [1] b"), "a [1] b");
  });

  it("runSummary says how the run ended", () => {
    assert.equal(runSummary({ output: "", exitCode: 0, executionTime: 0.01234, outputs: [] }), "[done in 0.012 s]");
    assert.equal(runSummary({ output: "", exitCode: 1, executionTime: 12.34, outputs: [] }), "[failed with exit code 1 after 12.3 s]");
  });
});
