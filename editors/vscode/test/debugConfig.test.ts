import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

import { DEFAULTS, type NexusSettings } from "../src/common/config";
import {
  attachableSessions,
  configProblem,
  type DebugConfig,
  defaultLaunchConfig,
  describeSession,
  namesKernel,
  parseSessions,
  resolveDapCommand,
} from "../src/common/debugConfig";
import { ServerNotFoundError } from "../src/common/serverCommand";

function settings(server: Partial<NexusSettings["server"]>): NexusSettings {
  return { ...DEFAULTS, server: { ...DEFAULTS.server, ...server } };
}

const onPath = (names: Record<string, string>) => (name: string) => names[name];

describe("debug adapter command", () => {
  it("nexus.server.command with its lsp argument replaced by dap; extraArgs are the server's", () => {
    const cmd = resolveDapCommand(settings({ command: ["/v/bin/nexus", "-v", "lsp"], extraArgs: ["--log-file", "/tmp/x"] }), onPath({}));
    assert.deepEqual(cmd, { command: "/v/bin/nexus", args: ["-v", "dap"], source: "nexus.server.command" });
    const module = resolveDapCommand(settings({ command: ["/v/bin/python", "-m", "nexus.cli", "lsp"] }), onPath({}));
    assert.deepEqual(module.args, ["-m", "nexus.cli", "dap"]);
  });

  it("a custom server command without lsp falls back to pythonPath, then PATH", () => {
    const cmd = resolveDapCommand(settings({ command: ["/opt/start-nexus.sh"], pythonPath: "/v/bin/python" }), onPath({}));
    assert.deepEqual(cmd, { command: "/v/bin/python", args: ["-m", "nexus.cli", "dap"], source: "nexus.server.pythonPath" });
    const onlyPath = resolveDapCommand(settings({ command: ["/opt/start-nexus.sh"] }), onPath({ nexus: "/b/nexus" }));
    assert.deepEqual([onlyPath.command, ...onlyPath.args], ["/b/nexus", "dap"]);
  });

  it("pythonPath, then nexus on PATH, then python3", () => {
    assert.deepEqual(resolveDapCommand(settings({ pythonPath: "/v/bin/python", extraArgs: ["-v"] }), onPath({})).args,
      ["-m", "nexus.cli", "dap"]);
    assert.deepEqual(resolveDapCommand(DEFAULTS, onPath({ nexus: "/b/nexus", python3: "/b/python3" })).args, ["dap"]);
    const cmd = resolveDapCommand(DEFAULTS, onPath({ python3: "/b/python3" }));
    assert.deepEqual([cmd.command, ...cmd.args], ["/b/python3", "-m", "nexus.cli", "dap"]);
  });

  it("nothing found is the server's error, naming the setting", () => {
    assert.throws(() => resolveDapCommand(DEFAULTS, onPath({})), ServerNotFoundError);
  });
});

describe("kernel sessions", () => {
  const listed = JSON.stringify([
    { sessionId: "doc-1", kernelId: "ab12", language: "python", connectionFile: "/k.json", ownerPid: 41, ownerStarted: 1, cwd: "/ws", opened: 2 },
    { sessionId: "js", kernelId: "cd34", language: "javascript", connectionFile: "/j.json", ownerPid: 41, ownerStarted: 1, cwd: "/ws", opened: 3 },
  ]);

  it("parses nexus dap --list-sessions and keeps the Python ones", () => {
    const sessions = parseSessions(listed);
    assert.equal(sessions.length, 2);
    assert.deepEqual(attachableSessions(sessions).map((s) => s.sessionId), ["doc-1"]);
    assert.deepEqual(describeSession(sessions[0]!), {
      label: "doc-1", description: "python kernel ab12", detail: "process 41 in /ws" });
  });

  it("anything but a JSON list is an error that shows what was printed", () => {
    assert.throws(() => parseSessions("Traceback (most recent call last)"), /not JSON: Traceback/);
    assert.throws(() => parseSessions("{}"), /did not print a list/);
  });
});

describe("debug configurations", () => {
  it("F5 without launch.json launches the file", () => {
    const config = defaultLaunchConfig("/ws/app.py");
    assert.deepEqual(config, { type: "nexus", request: "launch", name: "Nexus: Python file", program: "/ws/app.py", justMyCode: true });
    assert.equal(configProblem(config), undefined);
  });

  it("a launch needs exactly one of program, module, code", () => {
    assert.match(configProblem({ type: "nexus", request: "launch" })!, /needs "program", "module" or "code"/);
    assert.match(configProblem({ type: "nexus", request: "launch", program: "a.py", module: "m" })!, /exclude each other \(got program, module\)/);
    assert.match(configProblem({ type: "nexus", request: "debug" })!, /must be "launch" or "attach"/);
  });

  it("an attach names its kernel by session, kernel or connection file, or is picked", () => {
    assert.equal(namesKernel({ request: "attach" }), false);
    assert.equal(namesKernel({ request: "attach", sessionId: "" }), false);
    for (const key of ["sessionId", "kernelId", "connectionFile"]) {
      assert.equal(namesKernel({ request: "attach", [key]: "x" }), true, key);
    }
  });
});

describe("the contributed debugger", () => {
  const manifest = JSON.parse(readFileSync("package.json", "utf8"));
  const [debuggerEntry] = manifest.contributes.debuggers;

  it("is the nexus type for Python, with breakpoints in Python files", () => {
    assert.equal(manifest.contributes.debuggers.length, 1);
    assert.equal(debuggerEntry.type, "nexus");
    assert.deepEqual(debuggerEntry.languages, ["python"]);
    assert.deepEqual(manifest.contributes.breakpoints, [{ language: "python" }]);
    assert.ok(manifest.activationEvents.includes("onDebugResolve:nexus"));
  });

  it("every initial configuration and snippet is valid and uses documented attributes only", () => {
    const snippets: DebugConfig[] = debuggerEntry.configurationSnippets.map((s: { body: DebugConfig }) => s.body);
    const requests = new Set<string>();
    for (const config of [...debuggerEntry.initialConfigurations, ...snippets] as DebugConfig[]) {
      assert.equal(config.type, "nexus");
      assert.equal(configProblem(config), undefined, JSON.stringify(config));
      const known = Object.keys(debuggerEntry.configurationAttributes[config.request!].properties);
      for (const key of Object.keys(config)) {
        assert.ok(["type", "request", "name", ...known].includes(key), `${config.name}: ${key}`);
      }
      requests.add(config.request!);
    }
    assert.deepEqual([...requests].sort(), ["attach", "launch"]);
  });
});
