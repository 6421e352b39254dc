/** Unit tests of the wrapper's own logic, with the generated stubs replaced by fakes. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import * as grpc from "@grpc/grpc-js";
import { Client, ConveyorError, MAX_REASON_CHARS, nackReason } from "../src/index";
import { StreamingReceiveRequest } from "../../../generated/typescript/src/conveyor/v1/broker";

function fakeClient(broker: object): Client {
  return new Client("unused:0", grpc.credentials.createInsecure(), { broker: broker as never, admin: {} as never });
}

test("publish gives each message its own result", async () => {
  const client = fakeClient({
    send: (_req: unknown, cb: (e: null, r: unknown) => void) =>
      cb(null, {
        results: [
          { messageId: "m1", duplicate: false, queues: ["q"] },
          { messageId: "", duplicate: false, queues: [], error: { code: 8, message: "too large", details: [] } },
        ],
      }),
  });
  const [ok, bad] = await client.publish("q", [{ payload: Buffer.from("a") }, { payload: Buffer.from("b") }]);
  assert.equal(ok.id, "m1");
  assert.equal(ok.error, undefined);
  assert.equal(bad.id, undefined);
  assert.equal(bad.error?.code, grpc.status.RESOURCE_EXHAUSTED);
});

test("a failed call rejects with a typed error", async () => {
  const client = fakeClient({
    send: (_req: unknown, cb: (e: unknown) => void) =>
      cb(Object.assign(new Error("x"), { code: grpc.status.NOT_FOUND, details: "no queue" })),
  });
  await assert.rejects(client.publish("missing", [{}]), (err: unknown) => {
    assert.ok(err instanceof ConveyorError);
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(err.details, "no queue");
    return true;
  });
});

class FakeCall extends EventEmitter {
  written: StreamingReceiveRequest[] = [];
  ended = false;
  write(r: StreamingReceiveRequest) {
    this.written.push(r);
    return true;
  }
  end() {
    this.ended = true;
    setImmediate(() => this.emit("end"));
  }
  cancel() {}
}

test("consume acks resolved handlers, nacks rejected ones, and closes on abort", async () => {
  const call = new FakeCall();
  const client = fakeClient({ streamingReceive: () => call });
  const abort = new AbortController();
  const seen: string[] = [];
  const done = client.consume({ queue: "q", subscription: "s", maxOutstandingMessages: 5, signal: abort.signal }, async (d) => {
    seen.push(d.ackId);
    if (d.ackId === "a2") throw new Error("rejected");
    if (seen.length === 3) abort.abort();
  });
  call.emit("data", { deliveries: [{ ackId: "a1" }, { ackId: "a2" }, { ackId: "a3" }, { ackId: "a4" }], failedAckIds: [] });
  await done;
  assert.deepEqual(seen, ["a1", "a2", "a3"]); // a4 was left for the server to return
  const [open, settle] = call.written;
  assert.equal(open.queue, "q");
  assert.equal(open.maxOutstandingMessages, 5);
  assert.deepEqual(settle.ackIds, ["a1", "a3"]);
  assert.deepEqual(settle.nackIds, ["a2"]);
  assert.deepEqual(settle.nackReasons, ["rejected"]);
  assert.ok(call.ended);
});

test("consume sends one reason per nack, in order, and none with acks alone", async () => {
  const call = new FakeCall();
  const client = fakeClient({ streamingReceive: () => call });
  const abort = new AbortController();
  const done = client.consume({ queue: "q", subscription: "s", signal: abort.signal }, async (d) => {
    if (d.ackId === "a1") throw new TypeError("no field x");
    if (d.ackId === "a2") throw "a thrown string";
    if (d.ackId === "a3") return Promise.reject(new Error("rejected later"));
    if (d.ackId === "ok") abort.abort();
  });
  call.emit("data", { deliveries: [{ ackId: "a1" }, { ackId: "a2" }, { ackId: "a3" }], failedAckIds: [] });
  call.emit("data", { deliveries: [{ ackId: "ok" }], failedAckIds: [] });
  await done;
  const [, nacks, acks] = call.written;
  assert.deepEqual(nacks.nackIds, ["a1", "a2", "a3"]);
  assert.deepEqual(nacks.nackReasons, ["no field x", "a thrown string", "rejected later"]);
  assert.deepEqual(acks.ackIds, ["ok"]);
  assert.deepEqual(acks.nackReasons, []);
});

test("nackReason cuts at MAX_REASON_CHARS code points, never inside a surrogate pair", () => {
  assert.equal(nackReason(new Error("naïve ✓ failure")), "naïve ✓ failure");
  const exact = "é".repeat(MAX_REASON_CHARS);
  assert.equal(nackReason(new Error(exact)), exact);
  // "💥" is two UTF-16 units: cutting at 1000 units would split the 4-byte character.
  const long = "abc" + "é✓💥".repeat(600);
  const cut = nackReason(new Error(long));
  assert.equal([...cut].length, MAX_REASON_CHARS);
  assert.ok(long.startsWith(cut));
  assert.ok(!/[\uD800-\uDBFF]$/.test(cut), "ends in half a surrogate pair");
  assert.equal(nackReason(42), "42");
});
