package dev.conveyor.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.conveyor.v1.SendResponse;
import dev.conveyor.v1.SendResult;
import io.grpc.Status;
import java.util.List;
import org.junit.jupiter.api.Test;

class PublishResultTest {
  @Test
  void eachMessageGetsItsOwnResult() {
    SendResponse response =
        SendResponse.newBuilder()
            .addResults(SendResult.newBuilder().setMessageId("m1").addQueues("q"))
            .addResults(
                SendResult.newBuilder()
                    .setError(com.google.rpc.Status.newBuilder().setCode(8).setMessage("too large")))
            .build();
    List<PublishResult> results = PublishResult.of(response);
    assertTrue(results.get(0).ok());
    assertEquals("m1", results.get(0).id());
    assertEquals(List.of("q"), results.get(0).queues());
    assertFalse(results.get(1).ok());
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, results.get(1).error().orElseThrow().code());
    assertEquals("", results.get(1).id());
  }

  @Test
  void callFailuresBecomeTypedErrors() {
    ConveyorException e =
        ConveyorException.from(Status.NOT_FOUND.withDescription("no queue").asRuntimeException());
    assertEquals(Status.Code.NOT_FOUND, e.code());
    assertEquals("NOT_FOUND: no queue", e.getMessage());
  }
}
