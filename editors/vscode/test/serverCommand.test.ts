import * as assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, describe, it } from "node:test";

import { DEFAULTS, type NexusSettings } from "../src/common/config";
import { describeCommand, resolveServerCommand, ServerNotFoundError, whichOnPath } from "../src/common/serverCommand";

function settings(server: Partial<NexusSettings["server"]>): NexusSettings {
  return { ...DEFAULTS, server: { ...DEFAULTS.server, ...server } };
}

const onPath = (names: Record<string, string>) => (name: string) => names[name];

describe("server command", () => {
  it("nexus.server.command wins, with extraArgs appended", () => {
    const cmd = resolveServerCommand(settings({ command: ["/v/bin/nexus", "-v", "lsp"], extraArgs: ["--x"], pythonPath: "/py" }), onPath({}));
    assert.deepEqual(cmd, { command: "/v/bin/nexus", args: ["-v", "lsp", "--x"], source: "nexus.server.command" });
  });

  it("pythonPath runs the module", () => {
    const cmd = resolveServerCommand(settings({ pythonPath: "/v/bin/python" }), onPath({ nexus: "/usr/bin/nexus" }));
    assert.deepEqual(cmd, { command: "/v/bin/python", args: ["-m", "nexus.cli", "lsp"], source: "nexus.server.pythonPath" });
  });

  it("then the nexus console script, then python3", () => {
    assert.deepEqual(resolveServerCommand(DEFAULTS, onPath({ nexus: "/b/nexus", python3: "/b/python3" })).args, ["lsp"]);
    const cmd = resolveServerCommand(DEFAULTS, onPath({ python3: "/b/python3" }));
    assert.deepEqual([cmd.command, ...cmd.args], ["/b/python3", "-m", "nexus.cli", "lsp"]);
  });

  it("nothing found is an error that says what to set", () => {
    assert.throws(() => resolveServerCommand(DEFAULTS, onPath({})), (error: unknown) => {
      assert.ok(error instanceof ServerNotFoundError);
      assert.match(error.message, /nexus\.server\.pythonPath/);
      return true;
    });
  });

  it("describeCommand quotes arguments with spaces", () => {
    assert.equal(describeCommand({ command: "/My Tools/python", args: ["-m", "nexus.cli", "lsp"], source: "PATH" }),
      '"/My Tools/python" -m nexus.cli lsp');
  });
});

describe("whichOnPath", () => {
  const base = mkdtempSync(join(tmpdir(), "nexus-which-"));
  after(() => rmSync(base, { recursive: true, force: true }));
  const first = join(base, "first");
  const second = join(base, "second");
  mkdirSync(first);
  mkdirSync(second);
  writeFileSync(join(first, "nexus"), "not executable");
  writeFileSync(join(second, "nexus"), "#!/bin/sh\n");
  chmodSync(join(second, "nexus"), 0o755);

  it("skips files that are not executable and finds the next one", { skip: process.platform === "win32" }, () => {
    assert.equal(whichOnPath("nexus", { PATH: [first, second].join(delimiter) }, "linux"), join(second, "nexus"));
  });

  it("returns undefined when absent", () => {
    assert.equal(whichOnPath("nexus-nope", { PATH: [first, second].join(delimiter) }, "linux"), undefined);
    assert.equal(whichOnPath("nexus", {}, "linux"), undefined);
  });
});
