package dev.conveyor.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** A failed call, or one failed message of a batch, with its gRPC status code. */
public final class ConveyorException extends RuntimeException {
  private final Status.Code code;

  public ConveyorException(Status.Code code, String message) {
    super(code + ": " + message);
    this.code = code;
  }

  public Status.Code code() {
    return code;
  }

  static ConveyorException from(Throwable t) {
    if (t instanceof ConveyorException e) {
      return e;
    }
    Status s = Status.fromThrowable(t);
    return new ConveyorException(s.getCode(), s.getDescription() == null ? "" : s.getDescription());
  }

  static ConveyorException from(com.google.rpc.Status s) {
    return new ConveyorException(Status.fromCodeValue(s.getCode()).getCode(), s.getMessage());
  }

  static boolean isCancelled(Throwable t) {
    return t instanceof StatusRuntimeException e && e.getStatus().getCode() == Status.Code.CANCELLED;
  }
}
