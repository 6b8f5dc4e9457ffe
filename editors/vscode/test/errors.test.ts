import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ResponseError } from "vscode-jsonrpc";

import { describeError, isCancellation, isMethodNotFound } from "../src/common/errors";

describe("errors", () => {
  it("MethodNotFound means the server lacks the feature, and says so", () => {
    const error = new ResponseError(-32601, "Method Not Found: nexus/run");
    assert.equal(isMethodNotFound(error), true);
    assert.equal(describeError("Nexus: Run", error),
      "Nexus: Run is not available: this nexus server does not implement it (upgrade nexus-ide).");
  });

  it("cancellations are recognised (client and server side)", () => {
    assert.equal(isCancellation(new ResponseError(-32800, "cancelled")), true);
    assert.equal(isCancellation(new ResponseError(-32802, "server cancelled")), true);
    assert.equal(isCancellation(new ResponseError(-32603, "internal")), false);
    assert.equal(isCancellation(undefined), false);
  });

  it("other errors keep their message", () => {
    assert.equal(describeError("Search", new ResponseError(-32602, "query must be a string")), "Search failed: query must be a string");
    assert.equal(describeError("Search", new Error("socket closed")), "Search failed: socket closed");
    assert.equal(describeError("Search", "plain"), "Search failed: plain");
  });
});
