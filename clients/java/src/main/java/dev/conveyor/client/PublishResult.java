package dev.conveyor.client;

import dev.conveyor.v1.SendResponse;
import dev.conveyor.v1.SendResult;
import java.util.List;
import java.util.Optional;

/** The outcome of one published message: its id, or the error for it alone. */
public record PublishResult(String id, boolean duplicate, List<String> queues, Optional<ConveyorException> error) {
  static List<PublishResult> of(SendResponse response) {
    return response.getResultsList().stream().map(PublishResult::of).toList();
  }

  static PublishResult of(SendResult r) {
    Optional<ConveyorException> error =
        r.hasError() ? Optional.of(ConveyorException.from(r.getError())) : Optional.empty();
    return new PublishResult(error.isPresent() ? "" : r.getMessageId(), r.getDuplicate(), r.getQueuesList(), error);
  }

  public boolean ok() {
    return error.isEmpty();
  }
}
