package dev.conveyor.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.conveyor.v1.Delivery;
import dev.conveyor.v1.StreamingReceiveRequest;
import dev.conveyor.v1.StreamingReceiveResponse;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The consume loop's frames, with the stream replaced by a recording observer. */
class ConsumerTest {
  private static final class Recorder implements StreamObserver<StreamingReceiveRequest> {
    final List<StreamingReceiveRequest> sent = new ArrayList<>();
    boolean completed;

    @Override
    public void onNext(StreamingReceiveRequest r) {
      sent.add(r);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {
      completed = true;
    }
  }

  private static StreamingReceiveResponse frame(String... ackIds) {
    StreamingReceiveResponse.Builder b = StreamingReceiveResponse.newBuilder();
    for (String id : ackIds) {
      b.addDeliveries(Delivery.newBuilder().setAckId(id));
    }
    return b.build();
  }

  @Test
  void eachNackCarriesItsExceptionAsTheReasonInOneFrameWithTheAcks() {
    Recorder stream = new Recorder();
    ConveyorClient.Consumer consumer =
        new ConveyorClient.Consumer(
            d -> {
              switch (d.getAckId()) {
                case "a1" -> throw new IllegalStateException("db down");
                case "a3" -> throw new IOException("disk full");
                default -> {}
              }
            });
    consumer.requests = stream;
    consumer.onNext(frame("a1", "a2", "a3"));
    consumer.onNext(frame("ok"));
    assertEquals(2, stream.sent.size());
    StreamingReceiveRequest mixed = stream.sent.get(0);
    assertEquals(List.of("a2"), mixed.getAckIdsList());
    assertEquals(List.of("a1", "a3"), mixed.getNackIdsList());
    assertEquals(
        List.of("IllegalStateException: db down", "IOException: disk full"),
        mixed.getNackReasonsList());
    StreamingReceiveRequest acksOnly = stream.sent.get(1);
    assertEquals(List.of("ok"), acksOnly.getAckIdsList());
    assertEquals(0, acksOnly.getNackReasonsCount());
    consumer.stop();
    assertTrue(stream.completed);
  }

  @Test
  void reasonsAreCutAtMaxReasonCharsCodePointsNeverInsideASurrogatePair() {
    String exact = "é".repeat(ConveyorClient.MAX_REASON_CHARS - "RuntimeException: ".length());
    assertEquals("RuntimeException: " + exact, ConveyorClient.nackReason(new RuntimeException(exact)));
    // The emoji is two UTF-16 chars: a cut at 1000 chars would split it.
    String text = "abc" + "é✓\uD83D\uDCA5".repeat(600);
    String cut = ConveyorClient.nackReason(new IllegalArgumentException(text));
    assertEquals(ConveyorClient.MAX_REASON_CHARS, cut.codePointCount(0, cut.length()));
    assertTrue(("IllegalArgumentException: " + text).startsWith(cut));
    assertFalse(Character.isHighSurrogate(cut.charAt(cut.length() - 1)));
    assertEquals("NullPointerException", ConveyorClient.nackReason(new NullPointerException()));
  }
}
