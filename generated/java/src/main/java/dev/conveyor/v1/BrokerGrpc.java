package dev.conveyor.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Broker is the data plane: publish, consume, acknowledge, follow messages.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class BrokerGrpc {

  private BrokerGrpc() {}

  public static final java.lang.String SERVICE_NAME = "conveyor.v1.Broker";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.SendRequest,
      dev.conveyor.v1.SendResponse> getSendMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Send",
      requestType = dev.conveyor.v1.SendRequest.class,
      responseType = dev.conveyor.v1.SendResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.SendRequest,
      dev.conveyor.v1.SendResponse> getSendMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.SendRequest, dev.conveyor.v1.SendResponse> getSendMethod;
    if ((getSendMethod = BrokerGrpc.getSendMethod) == null) {
      synchronized (BrokerGrpc.class) {
        if ((getSendMethod = BrokerGrpc.getSendMethod) == null) {
          BrokerGrpc.getSendMethod = getSendMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.SendRequest, dev.conveyor.v1.SendResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Send"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.SendRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.SendResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BrokerMethodDescriptorSupplier("Send"))
              .build();
        }
      }
    }
    return getSendMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.SendStreamRequest,
      dev.conveyor.v1.SendStreamResponse> getSendStreamMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SendStream",
      requestType = dev.conveyor.v1.SendStreamRequest.class,
      responseType = dev.conveyor.v1.SendStreamResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.SendStreamRequest,
      dev.conveyor.v1.SendStreamResponse> getSendStreamMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.SendStreamRequest, dev.conveyor.v1.SendStreamResponse> getSendStreamMethod;
    if ((getSendStreamMethod = BrokerGrpc.getSendStreamMethod) == null) {
      synchronized (BrokerGrpc.class) {
        if ((getSendStreamMethod = BrokerGrpc.getSendStreamMethod) == null) {
          BrokerGrpc.getSendStreamMethod = getSendStreamMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.SendStreamRequest, dev.conveyor.v1.SendStreamResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SendStream"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.SendStreamRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.SendStreamResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BrokerMethodDescriptorSupplier("SendStream"))
              .build();
        }
      }
    }
    return getSendStreamMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.ReceiveRequest,
      dev.conveyor.v1.ReceiveResponse> getReceiveMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Receive",
      requestType = dev.conveyor.v1.ReceiveRequest.class,
      responseType = dev.conveyor.v1.ReceiveResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.ReceiveRequest,
      dev.conveyor.v1.ReceiveResponse> getReceiveMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.ReceiveRequest, dev.conveyor.v1.ReceiveResponse> getReceiveMethod;
    if ((getReceiveMethod = BrokerGrpc.getReceiveMethod) == null) {
      synchronized (BrokerGrpc.class) {
        if ((getReceiveMethod = BrokerGrpc.getReceiveMethod) == null) {
          BrokerGrpc.getReceiveMethod = getReceiveMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.ReceiveRequest, dev.conveyor.v1.ReceiveResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Receive"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.ReceiveRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.ReceiveResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BrokerMethodDescriptorSupplier("Receive"))
              .build();
        }
      }
    }
    return getReceiveMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.StreamingReceiveRequest,
      dev.conveyor.v1.StreamingReceiveResponse> getStreamingReceiveMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "StreamingReceive",
      requestType = dev.conveyor.v1.StreamingReceiveRequest.class,
      responseType = dev.conveyor.v1.StreamingReceiveResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.StreamingReceiveRequest,
      dev.conveyor.v1.StreamingReceiveResponse> getStreamingReceiveMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.StreamingReceiveRequest, dev.conveyor.v1.StreamingReceiveResponse> getStreamingReceiveMethod;
    if ((getStreamingReceiveMethod = BrokerGrpc.getStreamingReceiveMethod) == null) {
      synchronized (BrokerGrpc.class) {
        if ((getStreamingReceiveMethod = BrokerGrpc.getStreamingReceiveMethod) == null) {
          BrokerGrpc.getStreamingReceiveMethod = getStreamingReceiveMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.StreamingReceiveRequest, dev.conveyor.v1.StreamingReceiveResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "StreamingReceive"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.StreamingReceiveRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.StreamingReceiveResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BrokerMethodDescriptorSupplier("StreamingReceive"))
              .build();
        }
      }
    }
    return getStreamingReceiveMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.PullRequest,
      dev.conveyor.v1.PullResponse> getPullMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Pull",
      requestType = dev.conveyor.v1.PullRequest.class,
      responseType = dev.conveyor.v1.PullResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.PullRequest,
      dev.conveyor.v1.PullResponse> getPullMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.PullRequest, dev.conveyor.v1.PullResponse> getPullMethod;
    if ((getPullMethod = BrokerGrpc.getPullMethod) == null) {
      synchronized (BrokerGrpc.class) {
        if ((getPullMethod = BrokerGrpc.getPullMethod) == null) {
          BrokerGrpc.getPullMethod = getPullMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.PullRequest, dev.conveyor.v1.PullResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Pull"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.PullRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.PullResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BrokerMethodDescriptorSupplier("Pull"))
              .build();
        }
      }
    }
    return getPullMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.AckRequest,
      dev.conveyor.v1.AckResponse> getAckMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Ack",
      requestType = dev.conveyor.v1.AckRequest.class,
      responseType = dev.conveyor.v1.AckResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.AckRequest,
      dev.conveyor.v1.AckResponse> getAckMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.AckRequest, dev.conveyor.v1.AckResponse> getAckMethod;
    if ((getAckMethod = BrokerGrpc.getAckMethod) == null) {
      synchronized (BrokerGrpc.class) {
        if ((getAckMethod = BrokerGrpc.getAckMethod) == null) {
          BrokerGrpc.getAckMethod = getAckMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.AckRequest, dev.conveyor.v1.AckResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Ack"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.AckRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.AckResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BrokerMethodDescriptorSupplier("Ack"))
              .build();
        }
      }
    }
    return getAckMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.NackRequest,
      dev.conveyor.v1.NackResponse> getNackMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Nack",
      requestType = dev.conveyor.v1.NackRequest.class,
      responseType = dev.conveyor.v1.NackResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.NackRequest,
      dev.conveyor.v1.NackResponse> getNackMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.NackRequest, dev.conveyor.v1.NackResponse> getNackMethod;
    if ((getNackMethod = BrokerGrpc.getNackMethod) == null) {
      synchronized (BrokerGrpc.class) {
        if ((getNackMethod = BrokerGrpc.getNackMethod) == null) {
          BrokerGrpc.getNackMethod = getNackMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.NackRequest, dev.conveyor.v1.NackResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Nack"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.NackRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.NackResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BrokerMethodDescriptorSupplier("Nack"))
              .build();
        }
      }
    }
    return getNackMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.ModifyLeaseRequest,
      dev.conveyor.v1.ModifyLeaseResponse> getModifyLeaseMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ModifyLease",
      requestType = dev.conveyor.v1.ModifyLeaseRequest.class,
      responseType = dev.conveyor.v1.ModifyLeaseResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.ModifyLeaseRequest,
      dev.conveyor.v1.ModifyLeaseResponse> getModifyLeaseMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.ModifyLeaseRequest, dev.conveyor.v1.ModifyLeaseResponse> getModifyLeaseMethod;
    if ((getModifyLeaseMethod = BrokerGrpc.getModifyLeaseMethod) == null) {
      synchronized (BrokerGrpc.class) {
        if ((getModifyLeaseMethod = BrokerGrpc.getModifyLeaseMethod) == null) {
          BrokerGrpc.getModifyLeaseMethod = getModifyLeaseMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.ModifyLeaseRequest, dev.conveyor.v1.ModifyLeaseResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ModifyLease"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.ModifyLeaseRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.ModifyLeaseResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BrokerMethodDescriptorSupplier("ModifyLease"))
              .build();
        }
      }
    }
    return getModifyLeaseMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.GetMessageStatusRequest,
      dev.conveyor.v1.MessageStatus> getGetMessageStatusMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetMessageStatus",
      requestType = dev.conveyor.v1.GetMessageStatusRequest.class,
      responseType = dev.conveyor.v1.MessageStatus.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.GetMessageStatusRequest,
      dev.conveyor.v1.MessageStatus> getGetMessageStatusMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.GetMessageStatusRequest, dev.conveyor.v1.MessageStatus> getGetMessageStatusMethod;
    if ((getGetMessageStatusMethod = BrokerGrpc.getGetMessageStatusMethod) == null) {
      synchronized (BrokerGrpc.class) {
        if ((getGetMessageStatusMethod = BrokerGrpc.getGetMessageStatusMethod) == null) {
          BrokerGrpc.getGetMessageStatusMethod = getGetMessageStatusMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.GetMessageStatusRequest, dev.conveyor.v1.MessageStatus>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetMessageStatus"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.GetMessageStatusRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.MessageStatus.getDefaultInstance()))
              .setSchemaDescriptor(new BrokerMethodDescriptorSupplier("GetMessageStatus"))
              .build();
        }
      }
    }
    return getGetMessageStatusMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.WatchMessageRequest,
      dev.conveyor.v1.MessageStatus> getWatchMessageMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchMessage",
      requestType = dev.conveyor.v1.WatchMessageRequest.class,
      responseType = dev.conveyor.v1.MessageStatus.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.WatchMessageRequest,
      dev.conveyor.v1.MessageStatus> getWatchMessageMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.WatchMessageRequest, dev.conveyor.v1.MessageStatus> getWatchMessageMethod;
    if ((getWatchMessageMethod = BrokerGrpc.getWatchMessageMethod) == null) {
      synchronized (BrokerGrpc.class) {
        if ((getWatchMessageMethod = BrokerGrpc.getWatchMessageMethod) == null) {
          BrokerGrpc.getWatchMessageMethod = getWatchMessageMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.WatchMessageRequest, dev.conveyor.v1.MessageStatus>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchMessage"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.WatchMessageRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.MessageStatus.getDefaultInstance()))
              .setSchemaDescriptor(new BrokerMethodDescriptorSupplier("WatchMessage"))
              .build();
        }
      }
    }
    return getWatchMessageMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.CancelMessageRequest,
      dev.conveyor.v1.CancelMessageResponse> getCancelMessageMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CancelMessage",
      requestType = dev.conveyor.v1.CancelMessageRequest.class,
      responseType = dev.conveyor.v1.CancelMessageResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.CancelMessageRequest,
      dev.conveyor.v1.CancelMessageResponse> getCancelMessageMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.CancelMessageRequest, dev.conveyor.v1.CancelMessageResponse> getCancelMessageMethod;
    if ((getCancelMessageMethod = BrokerGrpc.getCancelMessageMethod) == null) {
      synchronized (BrokerGrpc.class) {
        if ((getCancelMessageMethod = BrokerGrpc.getCancelMessageMethod) == null) {
          BrokerGrpc.getCancelMessageMethod = getCancelMessageMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.CancelMessageRequest, dev.conveyor.v1.CancelMessageResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CancelMessage"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.CancelMessageRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.CancelMessageResponse.getDefaultInstance()))
              .setSchemaDescriptor(new BrokerMethodDescriptorSupplier("CancelMessage"))
              .build();
        }
      }
    }
    return getCancelMessageMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static BrokerStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<BrokerStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<BrokerStub>() {
        @java.lang.Override
        public BrokerStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new BrokerStub(channel, callOptions);
        }
      };
    return BrokerStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static BrokerBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<BrokerBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<BrokerBlockingV2Stub>() {
        @java.lang.Override
        public BrokerBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new BrokerBlockingV2Stub(channel, callOptions);
        }
      };
    return BrokerBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static BrokerBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<BrokerBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<BrokerBlockingStub>() {
        @java.lang.Override
        public BrokerBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new BrokerBlockingStub(channel, callOptions);
        }
      };
    return BrokerBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static BrokerFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<BrokerFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<BrokerFutureStub>() {
        @java.lang.Override
        public BrokerFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new BrokerFutureStub(channel, callOptions);
        }
      };
    return BrokerFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Broker is the data plane: publish, consume, acknowledge, follow messages.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Send publishes a batch of messages, to one queue or routed by topic through bindings.
     * Each message gets its own result; one bad message fails alone.
     * </pre>
     */
    default void send(dev.conveyor.v1.SendRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.SendResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSendMethod(), responseObserver);
    }

    /**
     * <pre>
     * SendStream publishes batches on one long-lived stream; one response per request, in order.
     * </pre>
     */
    default io.grpc.stub.StreamObserver<dev.conveyor.v1.SendStreamRequest> sendStream(
        io.grpc.stub.StreamObserver<dev.conveyor.v1.SendStreamResponse> responseObserver) {
      return io.grpc.stub.ServerCalls.asyncUnimplementedStreamingCall(getSendStreamMethod(), responseObserver);
    }

    /**
     * <pre>
     * Receive streams deliveries to a subscription, never more than its flow-control window
     * unacked at once. Acks go through Ack, Nack and ModifyLease.
     * </pre>
     */
    default void receive(dev.conveyor.v1.ReceiveRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.ReceiveResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getReceiveMethod(), responseObserver);
    }

    /**
     * <pre>
     * StreamingReceive is Receive with acks, nacks and lease changes on the same stream.
     * </pre>
     */
    default io.grpc.stub.StreamObserver<dev.conveyor.v1.StreamingReceiveRequest> streamingReceive(
        io.grpc.stub.StreamObserver<dev.conveyor.v1.StreamingReceiveResponse> responseObserver) {
      return io.grpc.stub.ServerCalls.asyncUnimplementedStreamingCall(getStreamingReceiveMethod(), responseObserver);
    }

    /**
     * <pre>
     * Pull long-polls: up to max_messages, waiting up to `wait` for the first one.
     * </pre>
     */
    default void pull(dev.conveyor.v1.PullRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.PullResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getPullMethod(), responseObserver);
    }

    /**
     * <pre>
     * Ack settles deliveries. Stale or unknown ack ids are listed in failed_ack_ids.
     * </pre>
     */
    default void ack(dev.conveyor.v1.AckRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.AckResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getAckMethod(), responseObserver);
    }

    /**
     * <pre>
     * Nack returns deliveries for redelivery (after `delay` or the queue's backoff), or sends
     * them straight to the dead-letter queue.
     * </pre>
     */
    default void nack(dev.conveyor.v1.NackRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.NackResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getNackMethod(), responseObserver);
    }

    /**
     * <pre>
     * ModifyLease extends (or with zero, ends) the leases of deliveries.
     * </pre>
     */
    default void modifyLease(dev.conveyor.v1.ModifyLeaseRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.ModifyLeaseResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getModifyLeaseMethod(), responseObserver);
    }

    /**
     * <pre>
     * GetMessageStatus reads where a message is.
     * buf:lint:ignore RPC_RESPONSE_STANDARD_NAME
     * buf:lint:ignore RPC_REQUEST_RESPONSE_UNIQUE
     * </pre>
     */
    default void getMessageStatus(dev.conveyor.v1.GetMessageStatusRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.MessageStatus> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetMessageStatusMethod(), responseObserver);
    }

    /**
     * <pre>
     * WatchMessage streams a message's status each time it changes, starting with the current
     * one, and ends once the message reaches a final state.
     * buf:lint:ignore RPC_RESPONSE_STANDARD_NAME
     * buf:lint:ignore RPC_REQUEST_RESPONSE_UNIQUE
     * </pre>
     */
    default void watchMessage(dev.conveyor.v1.WatchMessageRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.MessageStatus> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchMessageMethod(), responseObserver);
    }

    /**
     * <pre>
     * CancelMessage deletes a message that is pending or delayed (not one in flight).
     * </pre>
     */
    default void cancelMessage(dev.conveyor.v1.CancelMessageRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.CancelMessageResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCancelMessageMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service Broker.
   * <pre>
   * Broker is the data plane: publish, consume, acknowledge, follow messages.
   * </pre>
   */
  public static abstract class BrokerImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return BrokerGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service Broker.
   * <pre>
   * Broker is the data plane: publish, consume, acknowledge, follow messages.
   * </pre>
   */
  public static final class BrokerStub
      extends io.grpc.stub.AbstractAsyncStub<BrokerStub> {
    private BrokerStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected BrokerStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new BrokerStub(channel, callOptions);
    }

    /**
     * <pre>
     * Send publishes a batch of messages, to one queue or routed by topic through bindings.
     * Each message gets its own result; one bad message fails alone.
     * </pre>
     */
    public void send(dev.conveyor.v1.SendRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.SendResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSendMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * SendStream publishes batches on one long-lived stream; one response per request, in order.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<dev.conveyor.v1.SendStreamRequest> sendStream(
        io.grpc.stub.StreamObserver<dev.conveyor.v1.SendStreamResponse> responseObserver) {
      return io.grpc.stub.ClientCalls.asyncBidiStreamingCall(
          getChannel().newCall(getSendStreamMethod(), getCallOptions()), responseObserver);
    }

    /**
     * <pre>
     * Receive streams deliveries to a subscription, never more than its flow-control window
     * unacked at once. Acks go through Ack, Nack and ModifyLease.
     * </pre>
     */
    public void receive(dev.conveyor.v1.ReceiveRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.ReceiveResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getReceiveMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * StreamingReceive is Receive with acks, nacks and lease changes on the same stream.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<dev.conveyor.v1.StreamingReceiveRequest> streamingReceive(
        io.grpc.stub.StreamObserver<dev.conveyor.v1.StreamingReceiveResponse> responseObserver) {
      return io.grpc.stub.ClientCalls.asyncBidiStreamingCall(
          getChannel().newCall(getStreamingReceiveMethod(), getCallOptions()), responseObserver);
    }

    /**
     * <pre>
     * Pull long-polls: up to max_messages, waiting up to `wait` for the first one.
     * </pre>
     */
    public void pull(dev.conveyor.v1.PullRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.PullResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getPullMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Ack settles deliveries. Stale or unknown ack ids are listed in failed_ack_ids.
     * </pre>
     */
    public void ack(dev.conveyor.v1.AckRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.AckResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getAckMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Nack returns deliveries for redelivery (after `delay` or the queue's backoff), or sends
     * them straight to the dead-letter queue.
     * </pre>
     */
    public void nack(dev.conveyor.v1.NackRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.NackResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getNackMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * ModifyLease extends (or with zero, ends) the leases of deliveries.
     * </pre>
     */
    public void modifyLease(dev.conveyor.v1.ModifyLeaseRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.ModifyLeaseResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getModifyLeaseMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * GetMessageStatus reads where a message is.
     * buf:lint:ignore RPC_RESPONSE_STANDARD_NAME
     * buf:lint:ignore RPC_REQUEST_RESPONSE_UNIQUE
     * </pre>
     */
    public void getMessageStatus(dev.conveyor.v1.GetMessageStatusRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.MessageStatus> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetMessageStatusMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * WatchMessage streams a message's status each time it changes, starting with the current
     * one, and ends once the message reaches a final state.
     * buf:lint:ignore RPC_RESPONSE_STANDARD_NAME
     * buf:lint:ignore RPC_REQUEST_RESPONSE_UNIQUE
     * </pre>
     */
    public void watchMessage(dev.conveyor.v1.WatchMessageRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.MessageStatus> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchMessageMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * CancelMessage deletes a message that is pending or delayed (not one in flight).
     * </pre>
     */
    public void cancelMessage(dev.conveyor.v1.CancelMessageRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.CancelMessageResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCancelMessageMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service Broker.
   * <pre>
   * Broker is the data plane: publish, consume, acknowledge, follow messages.
   * </pre>
   */
  public static final class BrokerBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<BrokerBlockingV2Stub> {
    private BrokerBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected BrokerBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new BrokerBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Send publishes a batch of messages, to one queue or routed by topic through bindings.
     * Each message gets its own result; one bad message fails alone.
     * </pre>
     */
    public dev.conveyor.v1.SendResponse send(dev.conveyor.v1.SendRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getSendMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * SendStream publishes batches on one long-lived stream; one response per request, in order.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<dev.conveyor.v1.SendStreamRequest, dev.conveyor.v1.SendStreamResponse>
        sendStream() {
      return io.grpc.stub.ClientCalls.blockingBidiStreamingCall(
          getChannel(), getSendStreamMethod(), getCallOptions());
    }

    /**
     * <pre>
     * Receive streams deliveries to a subscription, never more than its flow-control window
     * unacked at once. Acks go through Ack, Nack and ModifyLease.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, dev.conveyor.v1.ReceiveResponse>
        receive(dev.conveyor.v1.ReceiveRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getReceiveMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * StreamingReceive is Receive with acks, nacks and lease changes on the same stream.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<dev.conveyor.v1.StreamingReceiveRequest, dev.conveyor.v1.StreamingReceiveResponse>
        streamingReceive() {
      return io.grpc.stub.ClientCalls.blockingBidiStreamingCall(
          getChannel(), getStreamingReceiveMethod(), getCallOptions());
    }

    /**
     * <pre>
     * Pull long-polls: up to max_messages, waiting up to `wait` for the first one.
     * </pre>
     */
    public dev.conveyor.v1.PullResponse pull(dev.conveyor.v1.PullRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getPullMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Ack settles deliveries. Stale or unknown ack ids are listed in failed_ack_ids.
     * </pre>
     */
    public dev.conveyor.v1.AckResponse ack(dev.conveyor.v1.AckRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getAckMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Nack returns deliveries for redelivery (after `delay` or the queue's backoff), or sends
     * them straight to the dead-letter queue.
     * </pre>
     */
    public dev.conveyor.v1.NackResponse nack(dev.conveyor.v1.NackRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getNackMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ModifyLease extends (or with zero, ends) the leases of deliveries.
     * </pre>
     */
    public dev.conveyor.v1.ModifyLeaseResponse modifyLease(dev.conveyor.v1.ModifyLeaseRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getModifyLeaseMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * GetMessageStatus reads where a message is.
     * buf:lint:ignore RPC_RESPONSE_STANDARD_NAME
     * buf:lint:ignore RPC_REQUEST_RESPONSE_UNIQUE
     * </pre>
     */
    public dev.conveyor.v1.MessageStatus getMessageStatus(dev.conveyor.v1.GetMessageStatusRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetMessageStatusMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * WatchMessage streams a message's status each time it changes, starting with the current
     * one, and ends once the message reaches a final state.
     * buf:lint:ignore RPC_RESPONSE_STANDARD_NAME
     * buf:lint:ignore RPC_REQUEST_RESPONSE_UNIQUE
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, dev.conveyor.v1.MessageStatus>
        watchMessage(dev.conveyor.v1.WatchMessageRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getWatchMessageMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * CancelMessage deletes a message that is pending or delayed (not one in flight).
     * </pre>
     */
    public dev.conveyor.v1.CancelMessageResponse cancelMessage(dev.conveyor.v1.CancelMessageRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCancelMessageMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service Broker.
   * <pre>
   * Broker is the data plane: publish, consume, acknowledge, follow messages.
   * </pre>
   */
  public static final class BrokerBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<BrokerBlockingStub> {
    private BrokerBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected BrokerBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new BrokerBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Send publishes a batch of messages, to one queue or routed by topic through bindings.
     * Each message gets its own result; one bad message fails alone.
     * </pre>
     */
    public dev.conveyor.v1.SendResponse send(dev.conveyor.v1.SendRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSendMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Receive streams deliveries to a subscription, never more than its flow-control window
     * unacked at once. Acks go through Ack, Nack and ModifyLease.
     * </pre>
     */
    public java.util.Iterator<dev.conveyor.v1.ReceiveResponse> receive(
        dev.conveyor.v1.ReceiveRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getReceiveMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Pull long-polls: up to max_messages, waiting up to `wait` for the first one.
     * </pre>
     */
    public dev.conveyor.v1.PullResponse pull(dev.conveyor.v1.PullRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getPullMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Ack settles deliveries. Stale or unknown ack ids are listed in failed_ack_ids.
     * </pre>
     */
    public dev.conveyor.v1.AckResponse ack(dev.conveyor.v1.AckRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAckMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Nack returns deliveries for redelivery (after `delay` or the queue's backoff), or sends
     * them straight to the dead-letter queue.
     * </pre>
     */
    public dev.conveyor.v1.NackResponse nack(dev.conveyor.v1.NackRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getNackMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ModifyLease extends (or with zero, ends) the leases of deliveries.
     * </pre>
     */
    public dev.conveyor.v1.ModifyLeaseResponse modifyLease(dev.conveyor.v1.ModifyLeaseRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getModifyLeaseMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * GetMessageStatus reads where a message is.
     * buf:lint:ignore RPC_RESPONSE_STANDARD_NAME
     * buf:lint:ignore RPC_REQUEST_RESPONSE_UNIQUE
     * </pre>
     */
    public dev.conveyor.v1.MessageStatus getMessageStatus(dev.conveyor.v1.GetMessageStatusRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetMessageStatusMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * WatchMessage streams a message's status each time it changes, starting with the current
     * one, and ends once the message reaches a final state.
     * buf:lint:ignore RPC_RESPONSE_STANDARD_NAME
     * buf:lint:ignore RPC_REQUEST_RESPONSE_UNIQUE
     * </pre>
     */
    public java.util.Iterator<dev.conveyor.v1.MessageStatus> watchMessage(
        dev.conveyor.v1.WatchMessageRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchMessageMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * CancelMessage deletes a message that is pending or delayed (not one in flight).
     * </pre>
     */
    public dev.conveyor.v1.CancelMessageResponse cancelMessage(dev.conveyor.v1.CancelMessageRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCancelMessageMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service Broker.
   * <pre>
   * Broker is the data plane: publish, consume, acknowledge, follow messages.
   * </pre>
   */
  public static final class BrokerFutureStub
      extends io.grpc.stub.AbstractFutureStub<BrokerFutureStub> {
    private BrokerFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected BrokerFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new BrokerFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Send publishes a batch of messages, to one queue or routed by topic through bindings.
     * Each message gets its own result; one bad message fails alone.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.SendResponse> send(
        dev.conveyor.v1.SendRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSendMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Pull long-polls: up to max_messages, waiting up to `wait` for the first one.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.PullResponse> pull(
        dev.conveyor.v1.PullRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getPullMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Ack settles deliveries. Stale or unknown ack ids are listed in failed_ack_ids.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.AckResponse> ack(
        dev.conveyor.v1.AckRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getAckMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Nack returns deliveries for redelivery (after `delay` or the queue's backoff), or sends
     * them straight to the dead-letter queue.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.NackResponse> nack(
        dev.conveyor.v1.NackRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getNackMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * ModifyLease extends (or with zero, ends) the leases of deliveries.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.ModifyLeaseResponse> modifyLease(
        dev.conveyor.v1.ModifyLeaseRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getModifyLeaseMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * GetMessageStatus reads where a message is.
     * buf:lint:ignore RPC_RESPONSE_STANDARD_NAME
     * buf:lint:ignore RPC_REQUEST_RESPONSE_UNIQUE
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.MessageStatus> getMessageStatus(
        dev.conveyor.v1.GetMessageStatusRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetMessageStatusMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * CancelMessage deletes a message that is pending or delayed (not one in flight).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.CancelMessageResponse> cancelMessage(
        dev.conveyor.v1.CancelMessageRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCancelMessageMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_SEND = 0;
  private static final int METHODID_RECEIVE = 1;
  private static final int METHODID_PULL = 2;
  private static final int METHODID_ACK = 3;
  private static final int METHODID_NACK = 4;
  private static final int METHODID_MODIFY_LEASE = 5;
  private static final int METHODID_GET_MESSAGE_STATUS = 6;
  private static final int METHODID_WATCH_MESSAGE = 7;
  private static final int METHODID_CANCEL_MESSAGE = 8;
  private static final int METHODID_SEND_STREAM = 9;
  private static final int METHODID_STREAMING_RECEIVE = 10;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final AsyncService serviceImpl;
    private final int methodId;

    MethodHandlers(AsyncService serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_SEND:
          serviceImpl.send((dev.conveyor.v1.SendRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.SendResponse>) responseObserver);
          break;
        case METHODID_RECEIVE:
          serviceImpl.receive((dev.conveyor.v1.ReceiveRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.ReceiveResponse>) responseObserver);
          break;
        case METHODID_PULL:
          serviceImpl.pull((dev.conveyor.v1.PullRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.PullResponse>) responseObserver);
          break;
        case METHODID_ACK:
          serviceImpl.ack((dev.conveyor.v1.AckRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.AckResponse>) responseObserver);
          break;
        case METHODID_NACK:
          serviceImpl.nack((dev.conveyor.v1.NackRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.NackResponse>) responseObserver);
          break;
        case METHODID_MODIFY_LEASE:
          serviceImpl.modifyLease((dev.conveyor.v1.ModifyLeaseRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.ModifyLeaseResponse>) responseObserver);
          break;
        case METHODID_GET_MESSAGE_STATUS:
          serviceImpl.getMessageStatus((dev.conveyor.v1.GetMessageStatusRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.MessageStatus>) responseObserver);
          break;
        case METHODID_WATCH_MESSAGE:
          serviceImpl.watchMessage((dev.conveyor.v1.WatchMessageRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.MessageStatus>) responseObserver);
          break;
        case METHODID_CANCEL_MESSAGE:
          serviceImpl.cancelMessage((dev.conveyor.v1.CancelMessageRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.CancelMessageResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_SEND_STREAM:
          return (io.grpc.stub.StreamObserver<Req>) serviceImpl.sendStream(
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.SendStreamResponse>) responseObserver);
        case METHODID_STREAMING_RECEIVE:
          return (io.grpc.stub.StreamObserver<Req>) serviceImpl.streamingReceive(
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.StreamingReceiveResponse>) responseObserver);
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getSendMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.SendRequest,
              dev.conveyor.v1.SendResponse>(
                service, METHODID_SEND)))
        .addMethod(
          getSendStreamMethod(),
          io.grpc.stub.ServerCalls.asyncBidiStreamingCall(
            new MethodHandlers<
              dev.conveyor.v1.SendStreamRequest,
              dev.conveyor.v1.SendStreamResponse>(
                service, METHODID_SEND_STREAM)))
        .addMethod(
          getReceiveMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              dev.conveyor.v1.ReceiveRequest,
              dev.conveyor.v1.ReceiveResponse>(
                service, METHODID_RECEIVE)))
        .addMethod(
          getStreamingReceiveMethod(),
          io.grpc.stub.ServerCalls.asyncBidiStreamingCall(
            new MethodHandlers<
              dev.conveyor.v1.StreamingReceiveRequest,
              dev.conveyor.v1.StreamingReceiveResponse>(
                service, METHODID_STREAMING_RECEIVE)))
        .addMethod(
          getPullMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.PullRequest,
              dev.conveyor.v1.PullResponse>(
                service, METHODID_PULL)))
        .addMethod(
          getAckMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.AckRequest,
              dev.conveyor.v1.AckResponse>(
                service, METHODID_ACK)))
        .addMethod(
          getNackMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.NackRequest,
              dev.conveyor.v1.NackResponse>(
                service, METHODID_NACK)))
        .addMethod(
          getModifyLeaseMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.ModifyLeaseRequest,
              dev.conveyor.v1.ModifyLeaseResponse>(
                service, METHODID_MODIFY_LEASE)))
        .addMethod(
          getGetMessageStatusMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.GetMessageStatusRequest,
              dev.conveyor.v1.MessageStatus>(
                service, METHODID_GET_MESSAGE_STATUS)))
        .addMethod(
          getWatchMessageMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              dev.conveyor.v1.WatchMessageRequest,
              dev.conveyor.v1.MessageStatus>(
                service, METHODID_WATCH_MESSAGE)))
        .addMethod(
          getCancelMessageMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.CancelMessageRequest,
              dev.conveyor.v1.CancelMessageResponse>(
                service, METHODID_CANCEL_MESSAGE)))
        .build();
  }

  private static abstract class BrokerBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    BrokerBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.conveyor.v1.BrokerOuterClass.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("Broker");
    }
  }

  private static final class BrokerFileDescriptorSupplier
      extends BrokerBaseDescriptorSupplier {
    BrokerFileDescriptorSupplier() {}
  }

  private static final class BrokerMethodDescriptorSupplier
      extends BrokerBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    BrokerMethodDescriptorSupplier(java.lang.String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (BrokerGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new BrokerFileDescriptorSupplier())
              .addMethod(getSendMethod())
              .addMethod(getSendStreamMethod())
              .addMethod(getReceiveMethod())
              .addMethod(getStreamingReceiveMethod())
              .addMethod(getPullMethod())
              .addMethod(getAckMethod())
              .addMethod(getNackMethod())
              .addMethod(getModifyLeaseMethod())
              .addMethod(getGetMessageStatusMethod())
              .addMethod(getWatchMessageMethod())
              .addMethod(getCancelMessageMethod())
              .build();
        }
      }
    }
    return result;
  }
}
