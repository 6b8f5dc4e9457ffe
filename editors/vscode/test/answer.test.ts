import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { AnswerTranscript, footer, receiptLabel, renderReceipt } from "../src/common/answer";
import type { ChatResult } from "../src/common/protocol";

const result: ChatResult = {
  text: "The indexer skips ignored files.",
  provider: "anthropic",
  model: "claude-sonnet-5-5",
  usage: { inputTokens: 1200, outputTokens: 40 },
  receipt: [
    { uri: "file:///w/engine/walker.py", path: "engine/walker.py", startLine: 9, endLine: 29, reason: "definition of walk" },
    { uri: "file:///w/engine/ignore.py", path: "engine/ignore.py", startLine: 4, endLine: 4, reason: "" },
  ],
  generated: true,
};

describe("answer transcript", () => {
  it("shows the text as it streams, then the receipt and who answered", () => {
    const t = new AnswerTranscript("Nexus: Ask", "Which files are skipped?");
    t.append("The indexer ");
    t.append("skips");
    let md = t.markdown();
    assert.match(md, /^# Nexus: Ask\n\n> Which files are skipped\?\n\nThe indexer skips\n/);
    assert.match(md, /_streaming…_/);
    assert.doesNotMatch(md, /Context used/);
    t.finish(result);
    md = t.markdown();
    assert.doesNotMatch(md, /streaming/);
    assert.match(md, /The indexer skips ignored files\./);
    assert.match(md, /\*\*Context used\*\* \(2\):/);
    assert.match(md, /- \[engine\/walker\.py:10-30\]\(file:\/\/\/w\/engine\/walker\.py#L10\) — definition of walk/);
    assert.match(md, /- \[engine\/ignore\.py:5\]\(file:\/\/\/w\/engine\/ignore\.py#L5\)\n/);
    assert.match(md, /_anthropic · claude-sonnet-5-5 · 1200 in \/ 40 out tokens_/);
  });

  it("the final text replaces what streamed (a server may stream nothing)", () => {
    const t = new AnswerTranscript("t", "q");
    t.append("draft");
    t.finish(result);
    assert.equal(t.text, result.text);
  });

  it("deltas after the end are ignored", () => {
    const t = new AnswerTranscript("t", "q");
    t.cancel();
    t.append("late");
    assert.equal(t.text, "");
    assert.match(t.markdown(), /_cancelled_/);
  });

  it("a failure keeps the partial text and says what went wrong", () => {
    const t = new AnswerTranscript("t", "q");
    t.append("half an ans");
    t.fail("Nexus: Ask failed: provider timed out");
    const md = t.markdown();
    assert.match(md, /half an ans/);
    assert.match(md, /\*\*Error:\*\* Nexus: Ask failed: provider timed out/);
  });

  it("a multi-line prompt stays inside the quote", () => {
    assert.match(new AnswerTranscript("t", "one\ntwo").markdown(), /> one\n> two/);
  });

  it("retrieval-only answers say that no provider is configured", () => {
    assert.match(footer({ ...result, generated: false }), /No AI provider is configured/);
  });

  it("receipt labels are 1-based, links can be replaced, brackets are escaped", () => {
    assert.equal(receiptLabel(result.receipt[0]!, "walker.py"), "walker.py:10-30");
    const md = renderReceipt([{ ...result.receipt[1]!, path: "a[1].py" }], { link: () => "command:open" });
    assert.equal(md, "**Context used** (1):\n\n- [a\\[1\\].py:5](command:open)");
    assert.equal(renderReceipt([]), "**Context used:** none");
  });
});
