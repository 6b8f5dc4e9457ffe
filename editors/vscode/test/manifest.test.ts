import * as assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const manifest = JSON.parse(readFileSync("package.json", "utf8"));

describe("manifest and module boundaries", () => {
  it("every contributed command is registered by the extension, and no other", () => {
    const source = readFileSync("src/commands.ts", "utf8");
    const registered = [...source.matchAll(/registerCommand\("([^"]+)"/g)].map((m) => m[1]).sort();
    const contributed = manifest.contributes.commands.map((c: { command: string }) => c.command).sort();
    assert.deepEqual(registered, contributed);
  });

  it("every command has a title in the Nexus category", () => {
    for (const c of manifest.contributes.commands) {
      assert.equal(c.category, "Nexus", c.command);
      assert.ok(c.title, c.command);
    }
  });

  it("modules under src/common never import vscode (so unit tests can load them)", () => {
    for (const name of readdirSync("src/common")) {
      const text = readFileSync(join("src/common", name), "utf8");
      assert.doesNotMatch(text, /from "vscode(-languageclient)?[/"]/, name);
    }
  });

  it("the extension activates on every language the server handles", () => {
    const server = readFileSync("src/server.ts", "utf8");
    const block = /export const LANGUAGES = \[([^\]]+)\]/.exec(server)![1]!;
    const languages = [...block.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    for (const language of languages) {
      assert.ok(manifest.activationEvents.includes(`onLanguage:${language}`), language);
    }
  });

  it("the packaged files are the bundle and the manifest only", () => {
    const ignore = readFileSync(".vscodeignore", "utf8");
    assert.match(ignore, /^\*\*$/m);
    assert.match(ignore, /^!dist\/extension\.js$/m);
    assert.equal(manifest.main, "./dist/extension.js");
  });
});
