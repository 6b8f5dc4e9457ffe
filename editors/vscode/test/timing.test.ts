import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { CancellationTokenSource } from "vscode-jsonrpc";

import { Coalescer, sleepUnlessCancelled } from "../src/common/timing";

describe("sleepUnlessCancelled", () => {
  it("resolves true when not cancelled", async () => {
    assert.equal(await sleepUnlessCancelled(1, new CancellationTokenSource().token), true);
  });

  it("resolves false when cancelled while waiting", async () => {
    const source = new CancellationTokenSource();
    const waiting = sleepUnlessCancelled(60_000, source.token);
    source.cancel();
    assert.equal(await waiting, false);
  });

  it("resolves false at once for a token already cancelled", async () => {
    const source = new CancellationTokenSource();
    source.cancel();
    assert.equal(await sleepUnlessCancelled(60_000, source.token), false);
  });
});

describe("Coalescer", () => {
  it("many schedules render once", async () => {
    let renders = 0;
    let rendered: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (rendered = resolve));
    const c = new Coalescer(() => {
      renders += 1;
      rendered();
    }, 1);
    c.schedule();
    c.schedule();
    c.schedule();
    await done;
    assert.equal(renders, 1);
    c.dispose();
  });

  it("flush renders now and cancels the pending render", () => {
    let renders = 0;
    const c = new Coalescer(() => (renders += 1), 60_000);
    c.schedule();
    c.flush();
    assert.equal(renders, 1);
    c.dispose();
  });
});
