package dev.conveyor.client;

import com.google.protobuf.ByteString;
import dev.conveyor.v1.CreateQueueRequest;
import dev.conveyor.v1.Message;
import dev.conveyor.v1.Queue;
import dev.conveyor.v1.StreamingReceiveRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The TLS and token scenarios of tests/interop (test_client_security.py): against a server with
 * TLS, mTLS and an auth file, with the CA, client certificate, key and a token from the
 * CONVEYOR_CLIENT_TLS_* and CONVEYOR_TOKEN variables, as a user would set them.
 */
final class InteropSecurity {
  private InteropSecurity() {}

  static Map<String, Object> run(String target, String p) throws Exception {
    Map<String, String> env = System.getenv();
    ClientSecurity fromEnv = ClientSecurity.fromEnv();
    ClientSecurity pemBytes =
        ClientSecurity.NONE
            .tlsCa(Files.readAllBytes(Path.of(env.get("CONVEYOR_CLIENT_TLS_CA"))))
            .tlsCert(Files.readAllBytes(Path.of(env.get("CONVEYOR_CLIENT_TLS_CERT"))))
            .tlsKey(Files.readAllBytes(Path.of(env.get("CONVEYOR_CLIENT_TLS_KEY"))))
            .token(fromEnv.token().orElseThrow());
    ClientSecurity noCert =
        ClientSecurity.NONE
            .tlsCa(Path.of(env.get("CONVEYOR_CLIENT_TLS_CA")))
            .token(fromEnv.token().orElseThrow());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("round_trip", roundTrip(target, fromEnv, p + "-sec"));
    out.put("pem_bytes", roundTrip(target, pemBytes, p + "-pem"));
    out.put("wrong_token", Map.of("code", publishCode(target, fromEnv.token("not-" + fromEnv.token().orElseThrow()), p + "-sec")));
    out.put("no_token", Map.of("code", publishCode(target, fromEnv.token(null), p + "-sec")));
    out.put("no_cert", Map.of("code", publishCode(target, noCert, p + "-sec")));
    return out;
  }

  private static Message msg(String payload) {
    return Message.newBuilder().setPayload(ByteString.copyFromUtf8(payload)).build();
  }

  /** Creates q, sends one message and receives it on a StreamingReceive stream (token on both). */
  private static Map<String, Object> roundTrip(String target, ClientSecurity security, String q) throws Exception {
    Map<String, Object> f = new LinkedHashMap<>();
    try (ConveyorClient c = new ConveyorClient(target, security)) {
      c.admin().createQueue(CreateQueueRequest.newBuilder().setQueue(Queue.newBuilder().setName(q)).build());
      PublishResult r = c.publish(q, List.of(msg("secret cargo"))).get(30, TimeUnit.SECONDS).get(0);
      List<String> received = new ArrayList<>();
      CompletableFuture<ConveyorClient.Consumer> started = new CompletableFuture<>();
      ConveyorClient.Consumer consumer =
          c.consume(
              StreamingReceiveRequest.newBuilder().setQueue(q).setSubscription("s").build(),
              d -> {
                received.add(d.getMessage().getPayload().toStringUtf8());
                started.join().stop();
              });
      started.complete(consumer);
      consumer.done().get(30, TimeUnit.SECONDS);
      f.put("error", "");
      f.put("queue", q);
      f.put("id", r.id());
      f.put("received", received);
    } catch (Exception e) {
      f.put("error", String.valueOf(e));
      f.put("code", ConveyorException.from(e instanceof ExecutionException ? e.getCause() : e).code().value());
    }
    return f;
  }

  private static int publishCode(String target, ClientSecurity security, String q) throws Exception {
    try (ConveyorClient c = new ConveyorClient(target, security)) {
      c.publish(q, List.of(msg("refused"))).get(30, TimeUnit.SECONDS);
      return 0;
    } catch (ExecutionException e) {
      return ConveyorException.from(e.getCause()).code().value();
    }
  }
}
