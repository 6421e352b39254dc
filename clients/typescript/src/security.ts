/**
 * TLS material and the bearer token, as grpc-js takes them: the same settings and environment
 * variables as the Python SDK (`tls_ca`, `tls_cert`, `tls_key`, `token`).
 */
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";

/** A PEM file's path, or the PEM bytes themselves. */
export type Pem = string | Uint8Array;

export interface SecurityOptions {
  /** The CA to trust; the system's roots when only a client certificate is given. */
  tlsCa?: Pem;
  /** A client certificate (for mTLS), with `tlsKey`. */
  tlsCert?: Pem;
  tlsKey?: Pem;
  /** Sent as `authorization: Bearer TOKEN` metadata on every call, streams included. */
  token?: string;
}

/**
 * The options the conveyor CLI reads from its environment: `CONVEYOR_CLIENT_TLS_CA`,
 * `CONVEYOR_CLIENT_TLS_CERT`, `CONVEYOR_CLIENT_TLS_KEY` (file paths) and `CONVEYOR_TOKEN`.
 */
export function securityFromEnv(env: NodeJS.ProcessEnv = process.env): SecurityOptions {
  const get = (name: string) => env[name] || undefined;
  return {
    tlsCa: get("CONVEYOR_CLIENT_TLS_CA"),
    tlsCert: get("CONVEYOR_CLIENT_TLS_CERT"),
    tlsKey: get("CONVEYOR_CLIENT_TLS_KEY"),
    token: get("CONVEYOR_TOKEN"),
  };
}

function read(pem: Pem | undefined): Buffer | null {
  if (pem === undefined) return null;
  return typeof pem === "string" ? readFileSync(pem) : Buffer.from(pem);
}

/** TLS credentials from the PEM options, or plaintext ones when none is given. */
export function channelCredentials(options: SecurityOptions): grpc.ChannelCredentials {
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new Error("tlsCert and tlsKey go together (a client certificate and its key)");
  }
  if (options.tlsCa === undefined && options.tlsCert === undefined) {
    return grpc.credentials.createInsecure();
  }
  return grpc.credentials.createSsl(read(options.tlsCa), read(options.tlsKey), read(options.tlsCert));
}

/**
 * Adds the token to each call's metadata. An interceptor rather than call credentials: grpc-js
 * composes those only with TLS, and a token on a plaintext channel is the caller's choice
 * (e.g. inside a pod network), as in the Python SDK.
 */
export function tokenInterceptor(token: string): grpc.Interceptor {
  const value = `Bearer ${token}`;
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set("authorization", value);
        next(metadata, listener);
      },
    });
}
