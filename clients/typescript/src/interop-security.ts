/**
 * The TLS and token scenarios of tests/interop (test_client_security.py): against a server with
 * TLS, mTLS and an auth file, with the CA, client certificate, key and a token from the
 * CONVEYOR_CLIENT_TLS_* and CONVEYOR_TOKEN variables, as a user would set them.
 */
import { readFileSync } from "node:fs";
import { Client, ConveyorError, SecurityOptions, securityFromEnv, unary } from "./index";
import { CreateQueueRequest, CreateQueueResponse } from "../../../generated/typescript/src/conveyor/v1/admin";

type Facts = Record<string, unknown>;

function failure(e: unknown): Facts {
  return { error: String(e), code: e instanceof ConveyorError ? e.code : -1 };
}

/** Creates q, sends one message and receives it on a StreamingReceive stream (token on both). */
async function secureRoundTrip(target: string, security: SecurityOptions, q: string): Promise<Facts> {
  const c = new Client(target, security);
  try {
    await unary<CreateQueueRequest, CreateQueueResponse>((r, cb) => c.admin.createQueue(r, cb), CreateQueueRequest.fromPartial({ queue: { name: q } }));
    const [result] = await c.publish(q, [{ payload: Buffer.from("secret cargo") }]);
    if (result.error) throw result.error;
    const received: string[] = [];
    const abort = new AbortController();
    await c.consume({ queue: q, subscription: "s", signal: abort.signal }, (d) => {
      received.push(d.message!.payload.toString());
      abort.abort();
    });
    return { error: "", queue: q, id: result.id, received };
  } catch (e) {
    return failure(e);
  } finally {
    c.close();
  }
}

async function publishCode(target: string, security: SecurityOptions, q: string): Promise<number> {
  const c = new Client(target, security);
  try {
    await c.publish(q, [{ payload: Buffer.from("refused") }]);
    return 0;
  } catch (e) {
    return e instanceof ConveyorError ? e.code : -1;
  } finally {
    c.close();
  }
}

export async function security(target: string, p: string): Promise<Record<string, Facts>> {
  const env = securityFromEnv();
  const pemBytes: SecurityOptions = {
    tlsCa: readFileSync(env.tlsCa as string),
    tlsCert: readFileSync(env.tlsCert as string),
    tlsKey: readFileSync(env.tlsKey as string),
    token: env.token,
  };
  return {
    round_trip: await secureRoundTrip(target, env, `${p}-sec`),
    pem_bytes: await secureRoundTrip(target, pemBytes, `${p}-pem`),
    wrong_token: { code: await publishCode(target, { ...env, token: `not-${env.token}` }, `${p}-sec`) },
    no_token: { code: await publishCode(target, { ...env, token: undefined }, `${p}-sec`) },
    no_cert: { code: await publishCode(target, { ...env, tlsCert: undefined, tlsKey: undefined }, `${p}-sec`) },
  };
}
