/**
 * A thin Node.js client for Conveyor, the gRPC message broker: promise-returning publish with a
 * result per message, and a consume loop that acks what its handler resolves and nacks what it
 * rejects. The generated ts-proto stubs stay reachable as `client.broker` and `client.admin`,
 * and `unary()` turns any of their callback methods into a promise.
 */
import * as grpc from "@grpc/grpc-js";
import { AdminClient } from "../../../generated/typescript/src/conveyor/v1/admin";
import {
  BrokerClient,
  SendRequest,
  SendResponse,
  StreamingReceiveRequest,
  StreamingReceiveResponse,
} from "../../../generated/typescript/src/conveyor/v1/broker";
import { Delivery, Message, WaitFor } from "../../../generated/typescript/src/conveyor/v1/types";
import { Status } from "../../../generated/typescript/src/google/rpc/status";
import { SecurityOptions, channelCredentials, tokenInterceptor } from "./security";

export * from "./security";

export * from "../../../generated/typescript/src/conveyor/v1/types";
export * as broker from "../../../generated/typescript/src/conveyor/v1/broker";
export * as admin from "../../../generated/typescript/src/conveyor/v1/admin";

/** A failed call, or one failed message of a batch, with its gRPC status code. */
export class ConveyorError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(`${grpc.status[code] ?? code}: ${details}`);
    this.name = "ConveyorError";
  }

  static fromServiceError(err: grpc.ServiceError): ConveyorError {
    return new ConveyorError(err.code, err.details);
  }

  static fromStatus(s: Status): ConveyorError {
    return new ConveyorError(s.code as grpc.status, s.message);
  }
}

/** The outcome of one published message: its id, or `error`. */
export interface PublishResult {
  id?: string;
  duplicate: boolean;
  queues: string[];
  error?: ConveyorError;
}

export interface PublishOptions {
  waitFor?: WaitFor;
  /** With WAIT_FOR_DELIVERED: how long the server waits, in seconds. */
  timeoutSeconds?: number;
}

export interface ConsumeOptions {
  queue: string;
  subscription: string;
  filter?: string;
  maxOutstandingMessages?: number;
  maxOutstandingBytes?: number;
  leaseSeconds?: number;
  /** Aborting stops the loop: the acks so far are sent, then the stream is closed. */
  signal?: AbortSignal;
}

/**
 * Resolves (ack) or rejects/throws (nack, redelivered with the queue's backoff); the error's
 * text is the nack's reason (see {@link nackReason}), shown on the message's dead letter.
 */
export type Handler = (delivery: Delivery) => Promise<void> | void;

/** Longest nack reason sent, in characters (code points), as in the other SDKs. */
export const MAX_REASON_CHARS = 1000;

/**
 * The reason consume sends with the nack of a delivery whose handler threw `err`: an Error's
 * message (else `String(err)`), cut to {@link MAX_REASON_CHARS} code points, so never between
 * the two halves of a surrogate pair.
 */
export function nackReason(err: unknown): string {
  let text: string;
  try {
    text = err instanceof Error ? err.message : String(err);
  } catch {
    text = Object.prototype.toString.call(err); // e.g. an object whose toString throws
  }
  let end = 0;
  let chars = 0;
  for (const ch of text) { // iterates code points
    if (chars === MAX_REASON_CHARS) return text.slice(0, end);
    end += ch.length;
    chars += 1;
  }
  return text;
}

type Callback<Res> = (err: grpc.ServiceError | null, res: Res) => void;

/** Calls a generated unary method as a promise; a failure rejects with a ConveyorError. */
export function unary<Req, Res>(
  method: (req: Req, cb: Callback<Res>) => grpc.ClientUnaryCall,
  request: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, (err, res) => (err ? reject(ConveyorError.fromServiceError(err)) : resolve(res)));
  });
}

/** How long consume waits for the server to end the stream after closing its side. */
const DRAIN_TIMEOUT_MS = 5000;

export class Client {
  readonly broker: BrokerClient;
  readonly admin: AdminClient;

  /**
   * `security` is either channel credentials as grpc-js makes them (plaintext by default), or
   * {@link SecurityOptions}: `tlsCa`, `tlsCert`, `tlsKey` (PEM paths or bytes; any of them makes
   * the channel TLS) and `token` (see {@link securityFromEnv} for the CLI's variables).
   */
  constructor(
    target: string,
    security: grpc.ChannelCredentials | SecurityOptions = grpc.credentials.createInsecure(),
    stubs?: { broker: BrokerClient; admin: AdminClient },
  ) {
    let credentials: grpc.ChannelCredentials;
    const options: Partial<grpc.ClientOptions> = {};
    if (security instanceof grpc.ChannelCredentials) {
      credentials = security;
    } else {
      credentials = channelCredentials(security);
      if (security.token) options.interceptors = [tokenInterceptor(security.token)];
    }
    this.broker = stubs?.broker ?? new BrokerClient(target, credentials, options);
    this.admin = stubs?.admin ?? new AdminClient(target, credentials, options);
  }

  close(): void {
    this.broker.close();
    this.admin.close();
  }

  /** Sends `messages` to `queue` ("" routes by topic) in one call; one result per message. */
  async publish(
    queue: string,
    messages: Partial<Message>[],
    options: PublishOptions = {},
  ): Promise<PublishResult[]> {
    const request = SendRequest.fromPartial({
      queue,
      messages,
      waitFor: options.waitFor,
      timeout: options.timeoutSeconds === undefined ? undefined : { seconds: options.timeoutSeconds, nanos: 0 },
    });
    const response: SendResponse = await unary((r, cb) => this.broker.send(r, cb), request);
    return response.results.map((r) => ({
      id: r.error ? undefined : r.messageId,
      duplicate: r.duplicate,
      queues: r.queues,
      error: r.error ? ConveyorError.fromStatus(r.error) : undefined,
    }));
  }

  /**
   * Runs `handler` over the subscription's deliveries on one StreamingReceive stream, one at a
   * time; each frame's acks and nacks (each with its {@link nackReason}) go back together on
   * the stream. Resolves once `options.signal` aborts (after the acks so far and closing the
   * stream; the server returns unhandled deliveries at once) or the server ends the stream;
   * rejects on a stream error.
   */
  consume(options: ConsumeOptions, handler: Handler): Promise<void> {
    const call = this.broker.streamingReceive();
    call.write(
      StreamingReceiveRequest.fromPartial({
        queue: options.queue,
        subscription: options.subscription,
        filter: options.filter ?? "",
        maxOutstandingMessages: options.maxOutstandingMessages ?? 0,
        maxOutstandingBytes: options.maxOutstandingBytes ?? 0,
        lease: options.leaseSeconds === undefined ? undefined : { seconds: options.leaseSeconds, nanos: 0 },
      }),
    );
    return new Promise<void>((resolve, reject) => {
      let stopping = false;
      let work: Promise<void> = Promise.resolve();
      let drain: NodeJS.Timeout | undefined;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        work = work.then(() => {
          call.end();
          drain = setTimeout(() => call.cancel(), DRAIN_TIMEOUT_MS);
        });
      };
      if (options.signal?.aborted) stop();
      options.signal?.addEventListener("abort", stop, { once: true });
      call.on("data", (response: StreamingReceiveResponse) => {
        work = work.then(async () => {
          const ackIds: string[] = [];
          const nackIds: string[] = [];
          const nackReasons: string[] = [];
          for (const delivery of response.deliveries) {
            if (stopping || options.signal?.aborted) break; // returned when the stream closes
            try {
              await handler(delivery);
              ackIds.push(delivery.ackId);
            } catch (err) {
              nackIds.push(delivery.ackId);
              nackReasons.push(nackReason(err));
            }
          }
          if (ackIds.length + nackIds.length > 0) {
            call.write(StreamingReceiveRequest.fromPartial({ ackIds, nackIds, nackReasons }));
          }
          if (options.signal?.aborted) stop();
        });
      });
      const finish = (err?: grpc.ServiceError) => {
        if (drain) clearTimeout(drain);
        options.signal?.removeEventListener("abort", stop);
        if (err && !(stopping && err.code === grpc.status.CANCELLED)) {
          reject(ConveyorError.fromServiceError(err));
        } else {
          resolve();
        }
      };
      call.on("end", () => work.then(() => finish()));
      call.on("error", (err: grpc.ServiceError) => work.then(() => finish(err)));
    });
  }
}
