/** Example: publish three messages and consume them with a handler.
 * node dist/clients/typescript/examples/publish-consume.js 127.0.0.1:50051 orders */
import { Client } from "../src/index";

async function main() {
  const [target = "127.0.0.1:50051", queue = "orders"] = process.argv.slice(2);
  const client = new Client(target);
  const results = await client.publish(queue, ["one", "two", "three"].map((s) => ({ payload: Buffer.from(s) })));
  results.forEach((r) => console.log("published", r.id ?? r.error));
  const stop = new AbortController();
  let handled = 0;
  await client.consume({ queue, subscription: "example", signal: stop.signal }, (d) => {
    console.log("handled", d.message?.id, d.message?.payload.toString());
    if (++handled === results.length) stop.abort();
  });
  client.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
