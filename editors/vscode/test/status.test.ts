import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { providerLabel, statusView } from "../src/common/status";

describe("status bar", () => {
  it("starting, stopped and failed states", () => {
    assert.match(statusView({ state: "starting" }).text, /sync~spin/);
    assert.equal(statusView({ state: "stopped" }).severity, "warning");
    const failed = statusView({ state: "failed", error: "python3: not found" });
    assert.equal(failed.severity, "error");
    assert.match(failed.tooltip, /python3: not found/);
  });

  it("indexing progress shows the percentage", () => {
    const view = statusView({ state: "running", progress: { title: "Indexing", message: "120/400 files", percentage: 30.2 } });
    assert.equal(view.text, "$(sync~spin) Nexus 30%");
    assert.equal(view.tooltip, "Indexing: 120/400 files");
  });

  it("when idle: file count, folders, version and the provider in use", () => {
    const view = statusView({
      state: "running",
      status: {
        version: "0.1.0",
        folders: [{ root: "/w/a", files: 1200, symbols: 9000 }, { root: "/w/b", files: 34, symbols: 100 }],
        providers: [
          { name: "openai", configured: false, models: {} },
          { name: "anthropic", configured: true, models: { chat: "claude-sonnet-5-5" } },
        ] as unknown as Record<string, unknown>,
      },
    });
    assert.equal(view.text, "$(check) Nexus 1,234 files");
    assert.equal(view.severity, "normal");
    assert.equal(view.tooltip, "nexus 0.1.0\n/w/a: 1,200 files, 9,000 symbols\n/w/b: 34 files, 100 symbols\nAI: anthropic (claude-sonnet-5-5)");
  });

  it("no provider and pending repairs are said", () => {
    const view = statusView({ state: "running", status: { version: "1", folders: [{ root: "/w", files: 1, pending: 2 }] } });
    assert.match(view.tooltip, /AI: no provider configured/);
    assert.match(view.tooltip, /2 file\(s\) left uncommitted by an interrupted index run/);
    assert.equal(view.severity, "warning");
  });

  it("files waiting for a running writer's commit are said without a warning", () => {
    const index = { files: 5, pending: 3, writer: 4242, interrupted: false };
    const view = statusView({ state: "running", status: { version: "1", folders: [{ root: "/w", index }] } });
    assert.match(view.tooltip, /3 file\(s\) being committed to the index/);
    assert.doesNotMatch(view.tooltip, /interrupted/);
    assert.equal(view.severity, "normal");
    const cut = statusView({ state: "running", status: { version: "1", folders: [{ root: "/w", index: { files: 5, pending: 0, interrupted: true } }] } });
    assert.match(cut.tooltip, /The last index run was cut short/);
    assert.equal(cut.severity, "warning");
  });

  it("the last error stays visible while running", () => {
    const view = statusView({ state: "running", error: "nexus/status failed" });
    assert.equal(view.text, "$(warning) Nexus");
    assert.match(view.tooltip, /Last error: nexus\/status failed/);
  });

  it("providerLabel accepts a list, {providers: list} or {chat: name}", () => {
    assert.equal(providerLabel([{ name: "local", configured: true }]), "local");
    assert.equal(providerLabel({ providers: [{ name: "gemini", configured: true, models: { chat: "g" } }] }), "gemini (g)");
    assert.equal(providerLabel({ chat: "openai:gpt-5.5" }), "openai:gpt-5.5");
    assert.equal(providerLabel(undefined), undefined);
    assert.equal(providerLabel([{ name: "x", configured: false }]), undefined);
  });
});

describe("status shapes", () => {
  it("counts under `index` and server.version (the server's live folder records) are read too", () => {
    const view = statusView({
      state: "running",
      status: {
        server: { name: "nexus", version: "0.2.0" },
        folders: [{ root: "/w", state: "ready", index: { files: 7, symbols: 40 } }, { root: "/x", error: "cannot open" }],
      },
    });
    assert.equal(view.text, "$(check) Nexus 7 files");
    assert.match(view.tooltip, /^nexus 0\.2\.0\n\/w: 7 files, 40 symbols/);
    assert.match(view.tooltip, /\/x: cannot open/);
    assert.equal(view.severity, "warning");
  });
});
