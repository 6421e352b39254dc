/**
 * Runs the interop scenarios of tests/interop against a server through this client and prints
 * what it observed as one JSON object (scenario -> facts). Usage: node interop.js TARGET PREFIX,
 * or node interop.js security TARGET PREFIX for the TLS and token scenarios (interop-security.ts).
 */
import * as grpc from "@grpc/grpc-js";
import { Client, ConveyorError, Delivery, Guarantee, WaitFor, unary } from "./index";
import {
  AckRequest, AckResponse, GetMessageStatusRequest, ModifyLeaseRequest, ModifyLeaseResponse, PullRequest, PullResponse,
  StreamingReceiveRequest, StreamingReceiveResponse,
} from "../../../generated/typescript/src/conveyor/v1/broker";
import {
  CreateBindingRequest, CreateBindingResponse, CreateQueueRequest, CreateQueueResponse, GetQueueStatsRequest,
  GetQueueStatsResponse,
} from "../../../generated/typescript/src/conveyor/v1/admin";
import { MessageStatus } from "../../../generated/typescript/src/conveyor/v1/types";
import { security } from "./interop-security";

type Facts = Record<string, unknown>;

async function createQueue(c: Client, name: string) {
  await unary<CreateQueueRequest, CreateQueueResponse>((r, cb) => c.admin.createQueue(r, cb), CreateQueueRequest.fromPartial({ queue: { name } }));
}

async function publish(c: Client, queue: string, ...payloads: string[]): Promise<string[]> {
  const results = await c.publish(queue, payloads.map((p) => ({ payload: Buffer.from(p) })));
  return results.map((r) => {
    if (r.error) throw r.error;
    return r.id!;
  });
}

async function pull(c: Client, queue: string, subscription: string, maxMessages = 10, waitSeconds = 5): Promise<Delivery[]> {
  const res = await unary<PullRequest, PullResponse>((r, cb) => c.broker.pull(r, cb), PullRequest.fromPartial({
    queue, subscription, maxMessages, wait: { seconds: waitSeconds, nanos: 0 },
  }));
  return res.deliveries;
}

async function ack(c: Client, ...ackIds: string[]): Promise<string[]> {
  return (await unary<AckRequest, AckResponse>((r, cb) => c.broker.ack(r, cb), AckRequest.fromPartial({ ackIds }))).failedAckIds;
}

async function status(c: Client, queue: string, messageId: string) {
  return unary<GetMessageStatusRequest, MessageStatus>((r, cb) => c.broker.getMessageStatus(r, cb), GetMessageStatusRequest.fromPartial({ queue, messageId }));
}

const stateName = (n: number) => ["MESSAGE_STATE_UNSPECIFIED", "MESSAGE_STATE_PENDING", "MESSAGE_STATE_IN_FLIGHT", "MESSAGE_STATE_DELIVERED"][n] ?? String(n);
const code = (e: ConveyorError | undefined) => e?.code ?? grpc.status.OK;

async function roundTrip(c: Client, q: string): Promise<Facts> {
  await createQueue(c, q);
  const ids = await publish(c, q, "a", "b", "c");
  const received: string[] = [];
  const payloads: string[] = [];
  const abort = new AbortController();
  let error = "";
  await c.consume({ queue: q, subscription: "s", signal: abort.signal }, (d) => {
    received.push(d.message!.id);
    payloads.push(d.message!.payload.toString());
    if (received.length === ids.length) abort.abort();
  }).catch((e) => (error = String(e)));
  return { queue: q, published: ids, received, payloads: payloads.sort(), error };
}

async function routing(c: Client, p: string): Promise<Facts> {
  const eu = `${p}-eu`, created = `${p}-created`;
  await createQueue(c, eu);
  await createQueue(c, created);
  await unary<CreateBindingRequest, CreateBindingResponse>((r, cb) => c.admin.createBinding(r, cb), CreateBindingRequest.fromPartial({ pattern: `${p}.eu.#`, queue: eu }));
  await unary<CreateBindingRequest, CreateBindingResponse>((r, cb) => c.admin.createBinding(r, cb), CreateBindingRequest.fromPartial({ pattern: `${p}.*.created`, queue: created }));
  const results = await c.publish("", [
    { topic: `${p}.eu.created`, payload: Buffer.from("eu-created") },
    { topic: `${p}.us.created`, payload: Buffer.from("us-created") },
    { topic: `${p}.eu.deleted`, payload: Buffer.from("eu-deleted") },
    { topic: `${p}.us.deleted`, payload: Buffer.from("nowhere") },
  ]);
  const pulled: Record<string, string[]> = {};
  for (const q of [eu, created]) {
    pulled[q] = (await pull(c, q, "s")).map((d) => d.message!.payload.toString()).sort();
  }
  return {
    eu, created, pulled,
    stored_in: results.slice(0, 3).map((r) => [...r.queues].sort()),
    unrouted_code: code(results[3].error),
  };
}

async function broadcast(c: Client, q: string): Promise<Facts> {
  await createQueue(c, q);
  for (const s of ["s1", "s2"]) await pull(c, q, s, 1, 0);
  const [r] = await c.publish(q, [{ payload: Buffer.from("to all"), guarantee: Guarantee.GUARANTEE_BROADCAST }]);
  const received: Record<string, string> = {};
  for (const s of ["s1", "s2"]) {
    const [d] = await pull(c, q, s);
    received[s] = d.message!.payload.toString();
    await ack(c, d.ackId);
  }
  const st = await status(c, q, r.id!);
  return { queue: q, id: r.id, received, acked_by: [...st.ackedBy].sort(), state: stateName(st.state) };
}

async function quorum(c: Client, q: string): Promise<Facts> {
  await createQueue(c, q);
  const subs = ["s1", "s2", "s3"];
  for (const s of subs) await pull(c, q, s, 1, 0);
  let started = 0; // acks begun; Send may only return after the second is processed
  let startedAtReturn = -1;
  const sending = c
    .publish(q, [{ payload: Buffer.from("two of three"), guarantee: Guarantee.GUARANTEE_QUORUM, requiredAcks: 2 }], {
      waitFor: WaitFor.WAIT_FOR_DELIVERED, timeoutSeconds: 20,
    })
    .then((r) => {
      startedAtReturn = started;
      return r;
    });
  for (const s of subs.slice(0, 2)) {
    const [d] = await pull(c, q, s);
    started += 1;
    await ack(c, d.ackId);
  }
  const [r] = await sending;
  const [tooMany] = await c.publish(q, [{ payload: Buffer.from("x"), guarantee: Guarantee.GUARANTEE_QUORUM, requiredAcks: 4 }]);
  const st = await status(c, q, r.id!);
  return { queue: q, id: r.id, acks_started_before_send_returned: startedAtReturn, state: stateName(st.state), too_many_code: code(tooMany.error) };
}

async function nackRedeliver(c: Client, q: string): Promise<Facts> {
  await createQueue(c, q);
  const [id] = await publish(c, q, "retry me");
  const attempts: number[] = [];
  const abort = new AbortController();
  let error = "";
  await c.consume({ queue: q, subscription: "s", signal: abort.signal }, (d) => {
    attempts.push(d.attempt);
    if (d.attempt === 1) throw new Error("not yet");
    abort.abort();
  }).catch((e) => (error = String(e)));
  return { queue: q, id, attempts, error };
}

/**
 * Fails every delivery of two messages on a queue with max_deliveries 2, so both are
 * dead-lettered with the handler's last error as their last nack reason: a short one and one
 * longer than the SDK's cap, in 1- to 4-byte characters.
 */
async function nackReasonScenario(c: Client, q: string): Promise<Facts> {
  const dlq = `${q}-dlq`;
  await createQueue(c, dlq);
  await unary<CreateQueueRequest, CreateQueueResponse>((r, cb) => c.admin.createQueue(r, cb), CreateQueueRequest.fromPartial({
    queue: { name: q, maxDeliveries: 2, deadLetterQueue: dlq, retryBackoff: { initial: { seconds: 0, nanos: 10_000_000 } } },
  }));
  const ids = await publish(c, q, "short", "long");
  const errors: Record<string, string> = {}; // message id -> the last error its handler threw
  let calls = 0;
  const abort = new AbortController();
  let error = "";
  await c.consume({ queue: q, subscription: "s", signal: abort.signal }, (d) => {
    const text = d.message!.payload.toString() === "long"
      ? `attempt ${d.attempt} ` + "é✓💥".repeat(500)
      : `handler failed on attempt ${d.attempt}: naïve ✓`;
    errors[d.message!.id] = text;
    if (++calls === 4) abort.abort(); // both messages' second and last attempt
    throw new Error(text);
  }).catch((e) => (error = String(e)));
  return { queue: q, dlq, ids, errors, calls, error };
}

async function flowControl(c: Client, q: string): Promise<Facts> {
  await createQueue(c, q);
  await publish(c, q, "1", "2", "3", "4", "5");
  const call = c.broker.streamingReceive();
  const frames: StreamingReceiveResponse[] = [];
  let wake: (() => void) | undefined;
  call.on("data", (f: StreamingReceiveResponse) => {
    frames.push(f);
    wake?.();
  });
  const next = async (): Promise<StreamingReceiveResponse> => {
    while (frames.length === 0) await new Promise<void>((res) => (wake = res));
    return frames.shift()!;
  };
  call.write(StreamingReceiveRequest.fromPartial({ queue: q, subscription: "s", maxOutstandingMessages: 2 }));
  const window: Delivery[] = [];
  while (window.length < 2) window.push(...(await next()).deliveries);
  const stats = await unary<GetQueueStatsRequest, GetQueueStatsResponse>((r, cb) => c.admin.getQueueStats(r, cb), GetQueueStatsRequest.fromPartial({ queue: q }));
  call.write(StreamingReceiveRequest.fromPartial({ ackIds: window.map((d) => d.ackId) }));
  let total = window.length;
  while (total < 5) {
    const more = (await next()).deliveries.map((d) => d.ackId);
    total += more.length;
    if (more.length) call.write(StreamingReceiveRequest.fromPartial({ ackIds: more }));
  }
  await new Promise<void>((res) => {
    call.on("end", res);
    call.on("error", () => res());
    call.end();
  });
  return { queue: q, first_window: window.length, in_flight_at_window: stats.inFlight, ready_at_window: stats.ready, total };
}

async function staleAck(c: Client, q: string): Promise<Facts> {
  await createQueue(c, q);
  await publish(c, q, "late");
  const [first] = await pull(c, q, "s", 1);
  // A zero lease ends the first delivery's lease now; the message is handed out again.
  await unary<ModifyLeaseRequest, ModifyLeaseResponse>((r, cb) => c.broker.modifyLease(r, cb), ModifyLeaseRequest.fromPartial({ ackIds: [first.ackId], lease: { seconds: 0, nanos: 0 } }));
  const [second] = await pull(c, q, "s", 1);
  return {
    queue: q, stale: first.ackId, attempts: [first.attempt, second.attempt],
    failed_old: await ack(c, first.ackId), failed_new: await ack(c, second.ackId),
  };
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length === 3 && args[0] === "security") {
    console.log(JSON.stringify(await security(args[1], args[2])));
    return;
  }
  const [target, p] = args;
  if (!target || !p) {
    console.error("usage: interop.js [security] TARGET PREFIX");
    process.exit(2);
  }
  const c = new Client(target);
  try {
    const out = {
      round_trip: await roundTrip(c, `${p}-rt`),
      routing: await routing(c, p),
      broadcast: await broadcast(c, `${p}-bc`),
      quorum: await quorum(c, `${p}-qu`),
      nack_redeliver: await nackRedeliver(c, `${p}-nk`),
      nack_reason: await nackReasonScenario(c, `${p}-nr`),
      flow_control: await flowControl(c, `${p}-fc`),
      stale_ack: await staleAck(c, `${p}-st`),
    };
    console.log(JSON.stringify(out));
  } finally {
    c.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
