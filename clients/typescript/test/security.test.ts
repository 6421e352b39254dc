/** The security options: TLS material checks, the environment, and the token on every call. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Client, ConveyorError, channelCredentials, securityFromEnv } from "../src/index";
import { BrokerService } from "../../../generated/typescript/src/conveyor/v1/broker";

test("securityFromEnv reads the CLI's variables", () => {
  const env = {
    CONVEYOR_CLIENT_TLS_CA: "/ca.pem",
    CONVEYOR_CLIENT_TLS_CERT: "/c.crt",
    CONVEYOR_CLIENT_TLS_KEY: "/c.key",
    CONVEYOR_TOKEN: "tok",
  };
  assert.deepEqual(securityFromEnv(env), { tlsCa: "/ca.pem", tlsCert: "/c.crt", tlsKey: "/c.key", token: "tok" });
  assert.deepEqual(securityFromEnv({}), { tlsCa: undefined, tlsCert: undefined, tlsKey: undefined, token: undefined });
});

test("a client certificate without its key is refused", () => {
  assert.throws(() => channelCredentials({ tlsCert: Buffer.from("x") }), /go together/);
});

test("no TLS option gives a plaintext channel", () => {
  assert.equal(channelCredentials({ token: "t" })._isSecure(), false);
});

test("a missing PEM file is reported", () => {
  assert.throws(() => channelCredentials({ tlsCa: "/nonexistent/ca.pem" }), /ENOENT/);
});

test("the token travels on unary calls and streams", async () => {
  const seen: string[] = [];
  const refuse = (md: grpc.Metadata) => {
    seen.push(String(md.get("authorization")[0]));
    return { code: grpc.status.UNAUTHENTICATED, details: "noted" };
  };
  const server = new grpc.Server();
  server.addService(BrokerService, {
    send: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(refuse(call.metadata)),
    streamingReceive: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.emit("error", refuse(call.metadata)),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const client = new Client(`127.0.0.1:${port}`, { token: "s3cret" });
  try {
    const isUnauthenticated = (err: unknown) => err instanceof ConveyorError && err.code === grpc.status.UNAUTHENTICATED;
    await assert.rejects(client.publish("q", [{}]), isUnauthenticated);
    await assert.rejects(client.consume({ queue: "q", subscription: "s" }, () => {}), isUnauthenticated);
    assert.deepEqual(seen, ["Bearer s3cret", "Bearer s3cret"]);
  } finally {
    client.close();
    server.forceShutdown();
  }
});
