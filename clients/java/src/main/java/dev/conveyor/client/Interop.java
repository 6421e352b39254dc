package dev.conveyor.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import dev.conveyor.v1.AckRequest;
import dev.conveyor.v1.CreateBindingRequest;
import dev.conveyor.v1.CreateQueueRequest;
import dev.conveyor.v1.Delivery;
import dev.conveyor.v1.GetMessageStatusRequest;
import dev.conveyor.v1.GetQueueStatsRequest;
import dev.conveyor.v1.GetQueueStatsResponse;
import dev.conveyor.v1.Guarantee;
import dev.conveyor.v1.Message;
import dev.conveyor.v1.MessageStatus;
import dev.conveyor.v1.ModifyLeaseRequest;
import dev.conveyor.v1.PullRequest;
import dev.conveyor.v1.Queue;
import dev.conveyor.v1.RetryBackoff;
import dev.conveyor.v1.SendRequest;
import dev.conveyor.v1.StreamingReceiveRequest;
import dev.conveyor.v1.WaitFor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * Runs the interop scenarios of tests/interop through this client and prints what it observed as
 * one JSON object (scenario to facts). Usage: Interop TARGET PREFIX, or Interop security TARGET
 * PREFIX for the TLS and token scenarios ({@link InteropSecurity}).
 */
public final class Interop {
  private final ConveyorClient c;

  private Interop(ConveyorClient c) {
    this.c = c;
  }

  public static void main(String[] args) throws Exception {
    if (args.length == 3 && args[0].equals("security")) {
      System.out.println(json(InteropSecurity.run(args[1], args[2])));
      System.exit(0);
    }
    if (args.length != 2) {
      System.err.println("usage: Interop [security] TARGET PREFIX");
      System.exit(2);
    }
    String p = args[1];
    try (ConveyorClient client = new ConveyorClient(args[0])) {
      Interop i = new Interop(client);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("round_trip", i.roundTrip(p + "-rt"));
      out.put("routing", i.routing(p));
      out.put("broadcast", i.broadcast(p + "-bc"));
      out.put("quorum", i.quorum(p + "-qu"));
      out.put("nack_redeliver", i.nackRedeliver(p + "-nk"));
      out.put("nack_reason", i.nackReason(p + "-nr"));
      out.put("flow_control", i.flowControl(p + "-fc"));
      out.put("stale_ack", i.staleAck(p + "-st"));
      System.out.println(json(out));
    }
    System.exit(0);
  }

  private void createQueue(String name) {
    c.admin().createQueue(CreateQueueRequest.newBuilder().setQueue(Queue.newBuilder().setName(name)).build());
  }

  private static Message msg(String payload) {
    return Message.newBuilder().setPayload(ByteString.copyFromUtf8(payload)).build();
  }

  private List<String> publish(String queue, String... payloads) throws Exception {
    List<Message> msgs = new ArrayList<>();
    for (String s : payloads) {
      msgs.add(msg(s));
    }
    List<String> ids = new ArrayList<>();
    for (PublishResult r : c.publish(queue, msgs).get(30, TimeUnit.SECONDS)) {
      if (!r.ok()) {
        throw r.error().get();
      }
      ids.add(r.id());
    }
    return ids;
  }

  private List<Delivery> pull(String queue, String sub, int n, long waitSeconds) {
    return c.broker()
        .pull(PullRequest.newBuilder().setQueue(queue).setSubscription(sub).setMaxMessages(n)
            .setWait(Duration.newBuilder().setSeconds(waitSeconds)).build())
        .getDeliveriesList();
  }

  private List<String> ack(String... ids) {
    return new ArrayList<>(c.broker().ack(AckRequest.newBuilder().addAllAckIds(List.of(ids)).build()).getFailedAckIdsList());
  }

  private MessageStatus status(String queue, String id) {
    return c.broker().getMessageStatus(GetMessageStatusRequest.newBuilder().setQueue(queue).setMessageId(id).build());
  }

  private static StreamingReceiveRequest open(String queue) {
    return StreamingReceiveRequest.newBuilder().setQueue(queue).setSubscription("s").build();
  }

  private Map<String, Object> roundTrip(String q) throws Exception {
    createQueue(q);
    List<String> ids = publish(q, "a", "b", "c");
    List<String> received = new ArrayList<>();
    List<String> payloads = new ArrayList<>();
    ConveyorClient.Consumer[] consumer = new ConveyorClient.Consumer[1];
    CompletableFuture<ConveyorClient.Consumer> started = new CompletableFuture<>();
    consumer[0] = c.consume(open(q), d -> {
      received.add(d.getMessage().getId());
      payloads.add(d.getMessage().getPayload().toStringUtf8());
      if (received.size() == ids.size()) {
        started.join().stop();
      }
    });
    started.complete(consumer[0]);
    consumer[0].done().get(30, TimeUnit.SECONDS);
    payloads.sort(null);
    return facts("queue", q, "published", ids, "received", received, "payloads", payloads, "error", "");
  }

  private Map<String, Object> routing(String p) throws Exception {
    String eu = p + "-eu";
    String created = p + "-created";
    createQueue(eu);
    createQueue(created);
    c.admin().createBinding(CreateBindingRequest.newBuilder().setPattern(p + ".eu.#").setQueue(eu).build());
    c.admin().createBinding(CreateBindingRequest.newBuilder().setPattern(p + ".*.created").setQueue(created).build());
    List<Message> msgs = List.of(
        msg("eu-created").toBuilder().setTopic(p + ".eu.created").build(),
        msg("us-created").toBuilder().setTopic(p + ".us.created").build(),
        msg("eu-deleted").toBuilder().setTopic(p + ".eu.deleted").build(),
        msg("nowhere").toBuilder().setTopic(p + ".us.deleted").build());
    List<PublishResult> results = c.publish("", msgs).get(30, TimeUnit.SECONDS);
    List<Object> storedIn = new ArrayList<>();
    for (PublishResult r : results.subList(0, 3)) {
      storedIn.add(r.queues().stream().sorted().toList());
    }
    Map<String, Object> pulled = new TreeMap<>();
    for (String q : List.of(eu, created)) {
      pulled.put(q, pull(q, "s", 10, 5).stream().map(d -> d.getMessage().getPayload().toStringUtf8()).sorted().toList());
    }
    return facts("eu", eu, "created", created, "stored_in", storedIn, "pulled", pulled,
        "unrouted_code", results.get(3).error().get().code().value());
  }

  private Map<String, Object> broadcast(String q) throws Exception {
    createQueue(q);
    for (String s : List.of("s1", "s2")) {
      pull(q, s, 1, 0);
    }
    Message m = msg("to all").toBuilder().setGuarantee(Guarantee.GUARANTEE_BROADCAST).build();
    PublishResult r = c.publish(q, List.of(m)).get(30, TimeUnit.SECONDS).get(0);
    Map<String, Object> received = new TreeMap<>();
    for (String s : List.of("s1", "s2")) {
      Delivery d = pull(q, s, 10, 5).get(0);
      received.put(s, d.getMessage().getPayload().toStringUtf8());
      ack(d.getAckId());
    }
    MessageStatus st = status(q, r.id());
    return facts("queue", q, "id", r.id(), "received", received,
        "acked_by", st.getAckedByList().stream().sorted().toList(), "state", st.getState().name());
  }

  private Map<String, Object> quorum(String q) throws Exception {
    createQueue(q);
    List<String> subs = List.of("s1", "s2", "s3");
    for (String s : subs) {
      pull(q, s, 1, 0);
    }
    Message m = msg("two of three").toBuilder().setGuarantee(Guarantee.GUARANTEE_QUORUM).setRequiredAcks(2).build();
    AtomicInteger started = new AtomicInteger(); // acks begun; Send returns only after the second
    CompletableFuture<Integer> startedAtReturn = new CompletableFuture<>();
    CompletableFuture<List<PublishResult>> sending = c.send(SendRequest.newBuilder().setQueue(q).addMessages(m)
        .setWaitFor(WaitFor.WAIT_FOR_DELIVERED).setTimeout(Duration.newBuilder().setSeconds(20)).build())
        .whenComplete((res, err) -> startedAtReturn.complete(started.get()));
    for (String s : subs.subList(0, 2)) {
      Delivery d = pull(q, s, 10, 5).get(0);
      started.incrementAndGet();
      ack(d.getAckId());
    }
    PublishResult r = sending.get(30, TimeUnit.SECONDS).get(0);
    Message tooMany = msg("x").toBuilder().setGuarantee(Guarantee.GUARANTEE_QUORUM).setRequiredAcks(4).build();
    PublishResult refused = c.publish(q, List.of(tooMany)).get(30, TimeUnit.SECONDS).get(0);
    return facts("queue", q, "id", r.id(), "acks_started_before_send_returned", startedAtReturn.get(),
        "state", status(q, r.id()).getState().name(), "too_many_code", refused.error().get().code().value());
  }

  private Map<String, Object> nackRedeliver(String q) throws Exception {
    createQueue(q);
    String id = publish(q, "retry me").get(0);
    List<Integer> attempts = new ArrayList<>();
    CompletableFuture<ConveyorClient.Consumer> started = new CompletableFuture<>();
    ConveyorClient.Consumer consumer = c.consume(open(q), d -> {
      attempts.add(d.getAttempt());
      if (d.getAttempt() == 1) {
        throw new IllegalStateException("not yet");
      }
      started.join().stop();
    });
    started.complete(consumer);
    consumer.done().get(30, TimeUnit.SECONDS);
    return facts("queue", q, "id", id, "attempts", attempts, "error", "");
  }

  /**
   * Fails every delivery of two messages on a queue with max_deliveries 2, so both are
   * dead-lettered with the handler's last exception as their last nack reason: a short one and
   * one longer than the SDK's cap, in 1- to 4-byte characters.
   */
  private Map<String, Object> nackReason(String q) throws Exception {
    String dlq = q + "-dlq";
    createQueue(dlq);
    c.admin().createQueue(CreateQueueRequest.newBuilder().setQueue(Queue.newBuilder()
        .setName(q).setMaxDeliveries(2).setDeadLetterQueue(dlq)
        .setRetryBackoff(RetryBackoff.newBuilder().setInitial(Duration.newBuilder().setNanos(10_000_000))))
        .build());
    List<String> ids = publish(q, "short", "long");
    Map<String, Object> errors = new TreeMap<>(); // message id -> the last error its handler threw
    AtomicInteger calls = new AtomicInteger();
    CompletableFuture<ConveyorClient.Consumer> started = new CompletableFuture<>();
    ConveyorClient.Consumer consumer = c.consume(open(q), d -> {
      String text = d.getMessage().getPayload().toStringUtf8().equals("long")
          ? "attempt " + d.getAttempt() + " " + "\u00e9\u2713\ud83d\udca5".repeat(500)
          : "handler failed on attempt " + d.getAttempt() + ": na\u00efve \u2713";
      errors.put(d.getMessage().getId(), text);
      if (calls.incrementAndGet() == 4) { // both messages' second and last attempt
        started.join().stop();
      }
      throw new IllegalStateException(text);
    });
    started.complete(consumer);
    consumer.done().get(30, TimeUnit.SECONDS);
    return facts("queue", q, "dlq", dlq, "ids", ids, "errors", errors, "calls", calls.get(), "error", "");
  }

  private Map<String, Object> flowControl(String q) throws Exception {
    createQueue(q);
    publish(q, "1", "2", "3", "4", "5");
    CompletableFuture<Void> windowFull = new CompletableFuture<>();
    CompletableFuture<Void> allSeen = new CompletableFuture<>();
    CompletableFuture<Void> proceed = new CompletableFuture<>();
    AtomicInteger seen = new AtomicInteger();
    ConveyorClient.Consumer consumer = c.consume(open(q).toBuilder().setMaxOutstandingMessages(2).build(), d -> {
      int n = seen.incrementAndGet();
      if (n == 2) {
        windowFull.complete(null);
        proceed.join(); // hold the window full until the stats are read
      }
      if (n == 5) {
        allSeen.complete(null);
      }
    });
    windowFull.get(30, TimeUnit.SECONDS);
    GetQueueStatsResponse stats = c.admin().getQueueStats(GetQueueStatsRequest.newBuilder().setQueue(q).build());
    int firstWindow = seen.get();
    proceed.complete(null);
    allSeen.get(30, TimeUnit.SECONDS);
    consumer.stop();
    consumer.done().get(30, TimeUnit.SECONDS);
    return facts("queue", q, "first_window", firstWindow, "in_flight_at_window", stats.getInFlight(),
        "ready_at_window", stats.getReady(), "total", seen.get());
  }

  private Map<String, Object> staleAck(String q) throws Exception {
    createQueue(q);
    publish(q, "late");
    Delivery first = pull(q, "s", 1, 5).get(0);
    // A zero lease ends the first delivery's lease now; the message is handed out again.
    c.broker().modifyLease(ModifyLeaseRequest.newBuilder().addAckIds(first.getAckId()).setLease(Duration.getDefaultInstance()).build());
    Delivery second = pull(q, "s", 1, 5).get(0);
    return facts("queue", q, "stale", first.getAckId(), "attempts", List.of(first.getAttempt(), second.getAttempt()),
        "failed_old", ack(first.getAckId()), "failed_new", ack(second.getAckId()));
  }

  private static Map<String, Object> facts(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  /** JSON for maps, lists, strings and numbers: all the facts need. */
  static String json(Object o) {
    if (o instanceof Map<?, ?> m) {
      return m.entrySet().stream().map(e -> json(e.getKey().toString()) + ":" + json(e.getValue()))
          .collect(Collectors.joining(",", "{", "}"));
    }
    if (o instanceof List<?> l) {
      return l.stream().map(Interop::json).collect(Collectors.joining(",", "[", "]"));
    }
    if (o instanceof Number || o instanceof Boolean) {
      return o.toString();
    }
    StringBuilder b = new StringBuilder("\"");
    for (char ch : o.toString().toCharArray()) {
      if (ch == '"' || ch == '\\') {
        b.append('\\').append(ch);
      } else if (ch < 0x20 || ch > 0x7e) { // ASCII out, whatever stdout's charset
        b.append(String.format("\\u%04x", (int) ch));
      } else {
        b.append(ch);
      }
    }
    return b.append('"').toString();
  }
}
