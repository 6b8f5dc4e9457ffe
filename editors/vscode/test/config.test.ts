import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

import { DEFAULTS, needsRestart, parseSettings, serverEnv } from "../src/common/config";

const manifest = JSON.parse(readFileSync("package.json", "utf8"));
const properties: Record<string, { default: unknown; markdownDescription?: string; description?: string }> =
  manifest.contributes.configuration.properties;

function lookup(tree: unknown, dotted: string): unknown {
  return dotted.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], tree);
}

function reader(values: Record<string, unknown>) {
  return (key: string) => values[key];
}

describe("settings", () => {
  it("every contributed setting has a description and the default the code uses", () => {
    for (const [name, spec] of Object.entries(properties)) {
      assert.ok(spec.markdownDescription || spec.description, `${name} has no description`);
      assert.deepEqual(spec.default, lookup(DEFAULTS, name.replace(/^nexus\./, "")), name);
    }
  });

  it("the code reads no setting that package.json does not contribute", () => {
    const read: string[] = [];
    parseSettings((key) => {
      read.push(`nexus.${key}`);
      return undefined;
    });
    assert.deepEqual(read.sort(), Object.keys(properties).sort());
  });

  it("unset values give the defaults and no problems", () => {
    const { settings, problems } = parseSettings(reader({}));
    assert.deepEqual(settings, DEFAULTS);
    assert.deepEqual(problems, []);
  });

  it("valid values are taken", () => {
    const { settings, problems } = parseSettings(reader({
      "server.command": ["/opt/venv/bin/nexus", "lsp"],
      "ai.provider": "local",
      "ai.inline": "local:qwen2.5-coder:1.5b",
      "inlineCompletion.debounceMs": 0,
      "ask.output": "document",
      "server.env": { NEXUS_LOCAL_BASE_URL: "http://localhost:11434/v1" },
    }));
    assert.deepEqual(problems, []);
    assert.deepEqual(settings.server.command, ["/opt/venv/bin/nexus", "lsp"]);
    assert.equal(settings.ai.inline, "local:qwen2.5-coder:1.5b");
    assert.equal(settings.inlineCompletion.debounceMs, 0);
    assert.equal(settings.ask.output, "document");
  });

  it("each invalid value falls back to its default with a message naming the key", () => {
    const { settings, problems } = parseSettings(reader({
      "server.command": "nexus lsp",
      "inlineCompletion.debounceMs": -5,
      "inlineCompletion.enabled": "yes",
      "ask.output": "popup",
      "ai.chat": ":model-without-provider",
      "server.env": { KEY: 1 },
    }));
    assert.deepEqual(settings, DEFAULTS);
    assert.equal(problems.length, 6);
    for (const key of ["server.command", "inlineCompletion.debounceMs", "inlineCompletion.enabled", "ask.output", "ai.chat", "server.env"]) {
      assert.ok(problems.some((p) => p.startsWith(`nexus.${key}:`)), `no problem reported for ${key}: ${problems.join("; ")}`);
    }
  });

  it("the AI settings become the engine's NEXUS_PROVIDERS_<ROLE> variables, roles overriding the provider", () => {
    const { settings } = parseSettings(reader({ "ai.provider": "anthropic", "ai.inline": "local:tiny", "server.env": { A: "1" } }));
    const env = serverEnv(settings, { PATH: "/bin", NEXUS_PROVIDERS_EDIT: "from-shell", UNSET: undefined });
    assert.equal(env.NEXUS_PROVIDERS_CHAT, "anthropic");
    assert.equal(env.NEXUS_PROVIDERS_INLINE, "local:tiny");
    assert.equal(env.NEXUS_PROVIDERS_EDIT, "anthropic");
    assert.equal(env.PATH, "/bin");
    assert.equal(env.A, "1");
    assert.ok(!("UNSET" in env));
  });

  it("empty AI settings leave the user's own environment alone", () => {
    const env = serverEnv(DEFAULTS, { NEXUS_PROVIDERS_CHAT: "openai" });
    assert.equal(env.NEXUS_PROVIDERS_CHAT, "openai");
    assert.ok(!("NEXUS_PROVIDERS_INLINE" in env));
  });

  it("only server and AI settings need a restart", () => {
    const changed = (values: Record<string, unknown>) => parseSettings(reader(values)).settings;
    assert.equal(needsRestart(DEFAULTS, changed({ "inlineCompletion.enabled": false })), false);
    assert.equal(needsRestart(DEFAULTS, changed({ "trace.server": "verbose" })), false);
    assert.equal(needsRestart(DEFAULTS, changed({ "server.pythonPath": "/usr/bin/python3" })), true);
    assert.equal(needsRestart(DEFAULTS, changed({ "ai.provider": "openai" })), true);
  });
});
