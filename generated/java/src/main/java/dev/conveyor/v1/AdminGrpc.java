package dev.conveyor.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Admin is the control plane: queues, bindings, subscriptions, stats and dead letters.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class AdminGrpc {

  private AdminGrpc() {}

  public static final java.lang.String SERVICE_NAME = "conveyor.v1.Admin";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.CreateQueueRequest,
      dev.conveyor.v1.CreateQueueResponse> getCreateQueueMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateQueue",
      requestType = dev.conveyor.v1.CreateQueueRequest.class,
      responseType = dev.conveyor.v1.CreateQueueResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.CreateQueueRequest,
      dev.conveyor.v1.CreateQueueResponse> getCreateQueueMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.CreateQueueRequest, dev.conveyor.v1.CreateQueueResponse> getCreateQueueMethod;
    if ((getCreateQueueMethod = AdminGrpc.getCreateQueueMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getCreateQueueMethod = AdminGrpc.getCreateQueueMethod) == null) {
          AdminGrpc.getCreateQueueMethod = getCreateQueueMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.CreateQueueRequest, dev.conveyor.v1.CreateQueueResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateQueue"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.CreateQueueRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.CreateQueueResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("CreateQueue"))
              .build();
        }
      }
    }
    return getCreateQueueMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.GetQueueRequest,
      dev.conveyor.v1.GetQueueResponse> getGetQueueMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetQueue",
      requestType = dev.conveyor.v1.GetQueueRequest.class,
      responseType = dev.conveyor.v1.GetQueueResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.GetQueueRequest,
      dev.conveyor.v1.GetQueueResponse> getGetQueueMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.GetQueueRequest, dev.conveyor.v1.GetQueueResponse> getGetQueueMethod;
    if ((getGetQueueMethod = AdminGrpc.getGetQueueMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getGetQueueMethod = AdminGrpc.getGetQueueMethod) == null) {
          AdminGrpc.getGetQueueMethod = getGetQueueMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.GetQueueRequest, dev.conveyor.v1.GetQueueResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetQueue"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.GetQueueRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.GetQueueResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("GetQueue"))
              .build();
        }
      }
    }
    return getGetQueueMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.ListQueuesRequest,
      dev.conveyor.v1.ListQueuesResponse> getListQueuesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListQueues",
      requestType = dev.conveyor.v1.ListQueuesRequest.class,
      responseType = dev.conveyor.v1.ListQueuesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.ListQueuesRequest,
      dev.conveyor.v1.ListQueuesResponse> getListQueuesMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.ListQueuesRequest, dev.conveyor.v1.ListQueuesResponse> getListQueuesMethod;
    if ((getListQueuesMethod = AdminGrpc.getListQueuesMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getListQueuesMethod = AdminGrpc.getListQueuesMethod) == null) {
          AdminGrpc.getListQueuesMethod = getListQueuesMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.ListQueuesRequest, dev.conveyor.v1.ListQueuesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListQueues"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.ListQueuesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.ListQueuesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("ListQueues"))
              .build();
        }
      }
    }
    return getListQueuesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.UpdateQueueRequest,
      dev.conveyor.v1.UpdateQueueResponse> getUpdateQueueMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpdateQueue",
      requestType = dev.conveyor.v1.UpdateQueueRequest.class,
      responseType = dev.conveyor.v1.UpdateQueueResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.UpdateQueueRequest,
      dev.conveyor.v1.UpdateQueueResponse> getUpdateQueueMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.UpdateQueueRequest, dev.conveyor.v1.UpdateQueueResponse> getUpdateQueueMethod;
    if ((getUpdateQueueMethod = AdminGrpc.getUpdateQueueMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getUpdateQueueMethod = AdminGrpc.getUpdateQueueMethod) == null) {
          AdminGrpc.getUpdateQueueMethod = getUpdateQueueMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.UpdateQueueRequest, dev.conveyor.v1.UpdateQueueResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpdateQueue"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.UpdateQueueRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.UpdateQueueResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("UpdateQueue"))
              .build();
        }
      }
    }
    return getUpdateQueueMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.DeleteQueueRequest,
      dev.conveyor.v1.DeleteQueueResponse> getDeleteQueueMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteQueue",
      requestType = dev.conveyor.v1.DeleteQueueRequest.class,
      responseType = dev.conveyor.v1.DeleteQueueResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.DeleteQueueRequest,
      dev.conveyor.v1.DeleteQueueResponse> getDeleteQueueMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.DeleteQueueRequest, dev.conveyor.v1.DeleteQueueResponse> getDeleteQueueMethod;
    if ((getDeleteQueueMethod = AdminGrpc.getDeleteQueueMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getDeleteQueueMethod = AdminGrpc.getDeleteQueueMethod) == null) {
          AdminGrpc.getDeleteQueueMethod = getDeleteQueueMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.DeleteQueueRequest, dev.conveyor.v1.DeleteQueueResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteQueue"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.DeleteQueueRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.DeleteQueueResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("DeleteQueue"))
              .build();
        }
      }
    }
    return getDeleteQueueMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.PurgeQueueRequest,
      dev.conveyor.v1.PurgeQueueResponse> getPurgeQueueMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "PurgeQueue",
      requestType = dev.conveyor.v1.PurgeQueueRequest.class,
      responseType = dev.conveyor.v1.PurgeQueueResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.PurgeQueueRequest,
      dev.conveyor.v1.PurgeQueueResponse> getPurgeQueueMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.PurgeQueueRequest, dev.conveyor.v1.PurgeQueueResponse> getPurgeQueueMethod;
    if ((getPurgeQueueMethod = AdminGrpc.getPurgeQueueMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getPurgeQueueMethod = AdminGrpc.getPurgeQueueMethod) == null) {
          AdminGrpc.getPurgeQueueMethod = getPurgeQueueMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.PurgeQueueRequest, dev.conveyor.v1.PurgeQueueResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "PurgeQueue"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.PurgeQueueRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.PurgeQueueResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("PurgeQueue"))
              .build();
        }
      }
    }
    return getPurgeQueueMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.CreateBindingRequest,
      dev.conveyor.v1.CreateBindingResponse> getCreateBindingMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateBinding",
      requestType = dev.conveyor.v1.CreateBindingRequest.class,
      responseType = dev.conveyor.v1.CreateBindingResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.CreateBindingRequest,
      dev.conveyor.v1.CreateBindingResponse> getCreateBindingMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.CreateBindingRequest, dev.conveyor.v1.CreateBindingResponse> getCreateBindingMethod;
    if ((getCreateBindingMethod = AdminGrpc.getCreateBindingMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getCreateBindingMethod = AdminGrpc.getCreateBindingMethod) == null) {
          AdminGrpc.getCreateBindingMethod = getCreateBindingMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.CreateBindingRequest, dev.conveyor.v1.CreateBindingResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateBinding"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.CreateBindingRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.CreateBindingResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("CreateBinding"))
              .build();
        }
      }
    }
    return getCreateBindingMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.DeleteBindingRequest,
      dev.conveyor.v1.DeleteBindingResponse> getDeleteBindingMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteBinding",
      requestType = dev.conveyor.v1.DeleteBindingRequest.class,
      responseType = dev.conveyor.v1.DeleteBindingResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.DeleteBindingRequest,
      dev.conveyor.v1.DeleteBindingResponse> getDeleteBindingMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.DeleteBindingRequest, dev.conveyor.v1.DeleteBindingResponse> getDeleteBindingMethod;
    if ((getDeleteBindingMethod = AdminGrpc.getDeleteBindingMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getDeleteBindingMethod = AdminGrpc.getDeleteBindingMethod) == null) {
          AdminGrpc.getDeleteBindingMethod = getDeleteBindingMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.DeleteBindingRequest, dev.conveyor.v1.DeleteBindingResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteBinding"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.DeleteBindingRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.DeleteBindingResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("DeleteBinding"))
              .build();
        }
      }
    }
    return getDeleteBindingMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.ListBindingsRequest,
      dev.conveyor.v1.ListBindingsResponse> getListBindingsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListBindings",
      requestType = dev.conveyor.v1.ListBindingsRequest.class,
      responseType = dev.conveyor.v1.ListBindingsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.ListBindingsRequest,
      dev.conveyor.v1.ListBindingsResponse> getListBindingsMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.ListBindingsRequest, dev.conveyor.v1.ListBindingsResponse> getListBindingsMethod;
    if ((getListBindingsMethod = AdminGrpc.getListBindingsMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getListBindingsMethod = AdminGrpc.getListBindingsMethod) == null) {
          AdminGrpc.getListBindingsMethod = getListBindingsMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.ListBindingsRequest, dev.conveyor.v1.ListBindingsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListBindings"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.ListBindingsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.ListBindingsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("ListBindings"))
              .build();
        }
      }
    }
    return getListBindingsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.ListSubscriptionsRequest,
      dev.conveyor.v1.ListSubscriptionsResponse> getListSubscriptionsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListSubscriptions",
      requestType = dev.conveyor.v1.ListSubscriptionsRequest.class,
      responseType = dev.conveyor.v1.ListSubscriptionsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.ListSubscriptionsRequest,
      dev.conveyor.v1.ListSubscriptionsResponse> getListSubscriptionsMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.ListSubscriptionsRequest, dev.conveyor.v1.ListSubscriptionsResponse> getListSubscriptionsMethod;
    if ((getListSubscriptionsMethod = AdminGrpc.getListSubscriptionsMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getListSubscriptionsMethod = AdminGrpc.getListSubscriptionsMethod) == null) {
          AdminGrpc.getListSubscriptionsMethod = getListSubscriptionsMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.ListSubscriptionsRequest, dev.conveyor.v1.ListSubscriptionsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListSubscriptions"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.ListSubscriptionsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.ListSubscriptionsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("ListSubscriptions"))
              .build();
        }
      }
    }
    return getListSubscriptionsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.DeleteSubscriptionRequest,
      dev.conveyor.v1.DeleteSubscriptionResponse> getDeleteSubscriptionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteSubscription",
      requestType = dev.conveyor.v1.DeleteSubscriptionRequest.class,
      responseType = dev.conveyor.v1.DeleteSubscriptionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.DeleteSubscriptionRequest,
      dev.conveyor.v1.DeleteSubscriptionResponse> getDeleteSubscriptionMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.DeleteSubscriptionRequest, dev.conveyor.v1.DeleteSubscriptionResponse> getDeleteSubscriptionMethod;
    if ((getDeleteSubscriptionMethod = AdminGrpc.getDeleteSubscriptionMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getDeleteSubscriptionMethod = AdminGrpc.getDeleteSubscriptionMethod) == null) {
          AdminGrpc.getDeleteSubscriptionMethod = getDeleteSubscriptionMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.DeleteSubscriptionRequest, dev.conveyor.v1.DeleteSubscriptionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteSubscription"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.DeleteSubscriptionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.DeleteSubscriptionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("DeleteSubscription"))
              .build();
        }
      }
    }
    return getDeleteSubscriptionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.GetQueueStatsRequest,
      dev.conveyor.v1.GetQueueStatsResponse> getGetQueueStatsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetQueueStats",
      requestType = dev.conveyor.v1.GetQueueStatsRequest.class,
      responseType = dev.conveyor.v1.GetQueueStatsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.GetQueueStatsRequest,
      dev.conveyor.v1.GetQueueStatsResponse> getGetQueueStatsMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.GetQueueStatsRequest, dev.conveyor.v1.GetQueueStatsResponse> getGetQueueStatsMethod;
    if ((getGetQueueStatsMethod = AdminGrpc.getGetQueueStatsMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getGetQueueStatsMethod = AdminGrpc.getGetQueueStatsMethod) == null) {
          AdminGrpc.getGetQueueStatsMethod = getGetQueueStatsMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.GetQueueStatsRequest, dev.conveyor.v1.GetQueueStatsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetQueueStats"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.GetQueueStatsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.GetQueueStatsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("GetQueueStats"))
              .build();
        }
      }
    }
    return getGetQueueStatsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.PeekMessagesRequest,
      dev.conveyor.v1.PeekMessagesResponse> getPeekMessagesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "PeekMessages",
      requestType = dev.conveyor.v1.PeekMessagesRequest.class,
      responseType = dev.conveyor.v1.PeekMessagesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.PeekMessagesRequest,
      dev.conveyor.v1.PeekMessagesResponse> getPeekMessagesMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.PeekMessagesRequest, dev.conveyor.v1.PeekMessagesResponse> getPeekMessagesMethod;
    if ((getPeekMessagesMethod = AdminGrpc.getPeekMessagesMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getPeekMessagesMethod = AdminGrpc.getPeekMessagesMethod) == null) {
          AdminGrpc.getPeekMessagesMethod = getPeekMessagesMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.PeekMessagesRequest, dev.conveyor.v1.PeekMessagesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "PeekMessages"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.PeekMessagesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.PeekMessagesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("PeekMessages"))
              .build();
        }
      }
    }
    return getPeekMessagesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.ListDeadLettersRequest,
      dev.conveyor.v1.ListDeadLettersResponse> getListDeadLettersMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListDeadLetters",
      requestType = dev.conveyor.v1.ListDeadLettersRequest.class,
      responseType = dev.conveyor.v1.ListDeadLettersResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.ListDeadLettersRequest,
      dev.conveyor.v1.ListDeadLettersResponse> getListDeadLettersMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.ListDeadLettersRequest, dev.conveyor.v1.ListDeadLettersResponse> getListDeadLettersMethod;
    if ((getListDeadLettersMethod = AdminGrpc.getListDeadLettersMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getListDeadLettersMethod = AdminGrpc.getListDeadLettersMethod) == null) {
          AdminGrpc.getListDeadLettersMethod = getListDeadLettersMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.ListDeadLettersRequest, dev.conveyor.v1.ListDeadLettersResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListDeadLetters"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.ListDeadLettersRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.ListDeadLettersResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("ListDeadLetters"))
              .build();
        }
      }
    }
    return getListDeadLettersMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.RedriveDeadLettersRequest,
      dev.conveyor.v1.RedriveDeadLettersResponse> getRedriveDeadLettersMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RedriveDeadLetters",
      requestType = dev.conveyor.v1.RedriveDeadLettersRequest.class,
      responseType = dev.conveyor.v1.RedriveDeadLettersResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.RedriveDeadLettersRequest,
      dev.conveyor.v1.RedriveDeadLettersResponse> getRedriveDeadLettersMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.RedriveDeadLettersRequest, dev.conveyor.v1.RedriveDeadLettersResponse> getRedriveDeadLettersMethod;
    if ((getRedriveDeadLettersMethod = AdminGrpc.getRedriveDeadLettersMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getRedriveDeadLettersMethod = AdminGrpc.getRedriveDeadLettersMethod) == null) {
          AdminGrpc.getRedriveDeadLettersMethod = getRedriveDeadLettersMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.RedriveDeadLettersRequest, dev.conveyor.v1.RedriveDeadLettersResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RedriveDeadLetters"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.RedriveDeadLettersRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.RedriveDeadLettersResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("RedriveDeadLetters"))
              .build();
        }
      }
    }
    return getRedriveDeadLettersMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.PauseQueueRequest,
      dev.conveyor.v1.PauseQueueResponse> getPauseQueueMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "PauseQueue",
      requestType = dev.conveyor.v1.PauseQueueRequest.class,
      responseType = dev.conveyor.v1.PauseQueueResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.PauseQueueRequest,
      dev.conveyor.v1.PauseQueueResponse> getPauseQueueMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.PauseQueueRequest, dev.conveyor.v1.PauseQueueResponse> getPauseQueueMethod;
    if ((getPauseQueueMethod = AdminGrpc.getPauseQueueMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getPauseQueueMethod = AdminGrpc.getPauseQueueMethod) == null) {
          AdminGrpc.getPauseQueueMethod = getPauseQueueMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.PauseQueueRequest, dev.conveyor.v1.PauseQueueResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "PauseQueue"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.PauseQueueRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.PauseQueueResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("PauseQueue"))
              .build();
        }
      }
    }
    return getPauseQueueMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.ResumeQueueRequest,
      dev.conveyor.v1.ResumeQueueResponse> getResumeQueueMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ResumeQueue",
      requestType = dev.conveyor.v1.ResumeQueueRequest.class,
      responseType = dev.conveyor.v1.ResumeQueueResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.ResumeQueueRequest,
      dev.conveyor.v1.ResumeQueueResponse> getResumeQueueMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.ResumeQueueRequest, dev.conveyor.v1.ResumeQueueResponse> getResumeQueueMethod;
    if ((getResumeQueueMethod = AdminGrpc.getResumeQueueMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getResumeQueueMethod = AdminGrpc.getResumeQueueMethod) == null) {
          AdminGrpc.getResumeQueueMethod = getResumeQueueMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.ResumeQueueRequest, dev.conveyor.v1.ResumeQueueResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ResumeQueue"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.ResumeQueueRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.ResumeQueueResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("ResumeQueue"))
              .build();
        }
      }
    }
    return getResumeQueueMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.conveyor.v1.ListQueueStatsRequest,
      dev.conveyor.v1.ListQueueStatsResponse> getListQueueStatsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListQueueStats",
      requestType = dev.conveyor.v1.ListQueueStatsRequest.class,
      responseType = dev.conveyor.v1.ListQueueStatsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.conveyor.v1.ListQueueStatsRequest,
      dev.conveyor.v1.ListQueueStatsResponse> getListQueueStatsMethod() {
    io.grpc.MethodDescriptor<dev.conveyor.v1.ListQueueStatsRequest, dev.conveyor.v1.ListQueueStatsResponse> getListQueueStatsMethod;
    if ((getListQueueStatsMethod = AdminGrpc.getListQueueStatsMethod) == null) {
      synchronized (AdminGrpc.class) {
        if ((getListQueueStatsMethod = AdminGrpc.getListQueueStatsMethod) == null) {
          AdminGrpc.getListQueueStatsMethod = getListQueueStatsMethod =
              io.grpc.MethodDescriptor.<dev.conveyor.v1.ListQueueStatsRequest, dev.conveyor.v1.ListQueueStatsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListQueueStats"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.ListQueueStatsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.conveyor.v1.ListQueueStatsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminMethodDescriptorSupplier("ListQueueStats"))
              .build();
        }
      }
    }
    return getListQueueStatsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static AdminStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminStub>() {
        @java.lang.Override
        public AdminStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminStub(channel, callOptions);
        }
      };
    return AdminStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static AdminBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminBlockingV2Stub>() {
        @java.lang.Override
        public AdminBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminBlockingV2Stub(channel, callOptions);
        }
      };
    return AdminBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static AdminBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminBlockingStub>() {
        @java.lang.Override
        public AdminBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminBlockingStub(channel, callOptions);
        }
      };
    return AdminBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static AdminFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminFutureStub>() {
        @java.lang.Override
        public AdminFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminFutureStub(channel, callOptions);
        }
      };
    return AdminFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Admin is the control plane: queues, bindings, subscriptions, stats and dead letters.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * CreateQueue creates a queue; ALREADY_EXISTS if the name is taken.
     * </pre>
     */
    default void createQueue(dev.conveyor.v1.CreateQueueRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.CreateQueueResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateQueueMethod(), responseObserver);
    }

    /**
     * <pre>
     * GetQueue reads a queue's configuration, with defaults filled in.
     * </pre>
     */
    default void getQueue(dev.conveyor.v1.GetQueueRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.GetQueueResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetQueueMethod(), responseObserver);
    }

    /**
     * <pre>
     * ListQueues lists every queue, by name.
     * </pre>
     */
    default void listQueues(dev.conveyor.v1.ListQueuesRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.ListQueuesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListQueuesMethod(), responseObserver);
    }

    /**
     * <pre>
     * UpdateQueue changes a queue's configuration at run time.
     * </pre>
     */
    default void updateQueue(dev.conveyor.v1.UpdateQueueRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.UpdateQueueResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpdateQueueMethod(), responseObserver);
    }

    /**
     * <pre>
     * DeleteQueue deletes a queue, its messages, subscriptions and bindings.
     * </pre>
     */
    default void deleteQueue(dev.conveyor.v1.DeleteQueueRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.DeleteQueueResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteQueueMethod(), responseObserver);
    }

    /**
     * <pre>
     * PurgeQueue deletes every message of a queue that is not in flight.
     * </pre>
     */
    default void purgeQueue(dev.conveyor.v1.PurgeQueueRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.PurgeQueueResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getPurgeQueueMethod(), responseObserver);
    }

    /**
     * <pre>
     * CreateBinding routes topics matching a pattern into a queue.
     * </pre>
     */
    default void createBinding(dev.conveyor.v1.CreateBindingRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.CreateBindingResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateBindingMethod(), responseObserver);
    }

    /**
     * <pre>
     * DeleteBinding removes a binding.
     * </pre>
     */
    default void deleteBinding(dev.conveyor.v1.DeleteBindingRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.DeleteBindingResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteBindingMethod(), responseObserver);
    }

    /**
     * <pre>
     * ListBindings lists bindings, of one queue or all.
     * </pre>
     */
    default void listBindings(dev.conveyor.v1.ListBindingsRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.ListBindingsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListBindingsMethod(), responseObserver);
    }

    /**
     * <pre>
     * ListSubscriptions lists a queue's subscriptions.
     * </pre>
     */
    default void listSubscriptions(dev.conveyor.v1.ListSubscriptionsRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.ListSubscriptionsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListSubscriptionsMethod(), responseObserver);
    }

    /**
     * <pre>
     * DeleteSubscription deletes a subscription; its in-flight deliveries go back to the queue.
     * </pre>
     */
    default void deleteSubscription(dev.conveyor.v1.DeleteSubscriptionRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.DeleteSubscriptionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteSubscriptionMethod(), responseObserver);
    }

    /**
     * <pre>
     * GetQueueStats reads depth, age and counters of a queue.
     * </pre>
     */
    default void getQueueStats(dev.conveyor.v1.GetQueueStatsRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.GetQueueStatsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetQueueStatsMethod(), responseObserver);
    }

    /**
     * <pre>
     * PeekMessages reads messages without delivering them.
     * </pre>
     */
    default void peekMessages(dev.conveyor.v1.PeekMessagesRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.PeekMessagesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getPeekMessagesMethod(), responseObserver);
    }

    /**
     * <pre>
     * ListDeadLetters lists the messages of a dead-letter queue with why they are there.
     * </pre>
     */
    default void listDeadLetters(dev.conveyor.v1.ListDeadLettersRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.ListDeadLettersResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListDeadLettersMethod(), responseObserver);
    }

    /**
     * <pre>
     * RedriveDeadLetters moves dead letters back to their source queue (or a destination).
     * </pre>
     */
    default void redriveDeadLetters(dev.conveyor.v1.RedriveDeadLettersRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.RedriveDeadLettersResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRedriveDeadLettersMethod(), responseObserver);
    }

    /**
     * <pre>
     * PauseQueue stops deliveries from a queue: sends are still accepted and stored, Receive
     * streams stay open but idle, Pull returns nothing; leases already handed out run on (acks
     * count, an expired lease makes its message ready again without redelivering it). Durable
     * across restarts. Pausing a paused queue changes nothing.
     * </pre>
     */
    default void pauseQueue(dev.conveyor.v1.PauseQueueRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.PauseQueueResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getPauseQueueMethod(), responseObserver);
    }

    /**
     * <pre>
     * ResumeQueue lets a paused queue deliver again (waiting consumers are woken at once).
     * </pre>
     */
    default void resumeQueue(dev.conveyor.v1.ResumeQueueRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.ResumeQueueResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getResumeQueueMethod(), responseObserver);
    }

    /**
     * <pre>
     * ListQueueStats reads the stats of every queue (whose name starts with `prefix`) at once,
     * by name: what an overview (`conveyor stats`, `conveyor top`, a console) shows.
     * </pre>
     */
    default void listQueueStats(dev.conveyor.v1.ListQueueStatsRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.ListQueueStatsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListQueueStatsMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service Admin.
   * <pre>
   * Admin is the control plane: queues, bindings, subscriptions, stats and dead letters.
   * </pre>
   */
  public static abstract class AdminImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return AdminGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service Admin.
   * <pre>
   * Admin is the control plane: queues, bindings, subscriptions, stats and dead letters.
   * </pre>
   */
  public static final class AdminStub
      extends io.grpc.stub.AbstractAsyncStub<AdminStub> {
    private AdminStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminStub(channel, callOptions);
    }

    /**
     * <pre>
     * CreateQueue creates a queue; ALREADY_EXISTS if the name is taken.
     * </pre>
     */
    public void createQueue(dev.conveyor.v1.CreateQueueRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.CreateQueueResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateQueueMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * GetQueue reads a queue's configuration, with defaults filled in.
     * </pre>
     */
    public void getQueue(dev.conveyor.v1.GetQueueRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.GetQueueResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetQueueMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * ListQueues lists every queue, by name.
     * </pre>
     */
    public void listQueues(dev.conveyor.v1.ListQueuesRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.ListQueuesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListQueuesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * UpdateQueue changes a queue's configuration at run time.
     * </pre>
     */
    public void updateQueue(dev.conveyor.v1.UpdateQueueRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.UpdateQueueResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpdateQueueMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * DeleteQueue deletes a queue, its messages, subscriptions and bindings.
     * </pre>
     */
    public void deleteQueue(dev.conveyor.v1.DeleteQueueRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.DeleteQueueResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteQueueMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * PurgeQueue deletes every message of a queue that is not in flight.
     * </pre>
     */
    public void purgeQueue(dev.conveyor.v1.PurgeQueueRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.PurgeQueueResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getPurgeQueueMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * CreateBinding routes topics matching a pattern into a queue.
     * </pre>
     */
    public void createBinding(dev.conveyor.v1.CreateBindingRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.CreateBindingResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateBindingMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * DeleteBinding removes a binding.
     * </pre>
     */
    public void deleteBinding(dev.conveyor.v1.DeleteBindingRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.DeleteBindingResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteBindingMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * ListBindings lists bindings, of one queue or all.
     * </pre>
     */
    public void listBindings(dev.conveyor.v1.ListBindingsRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.ListBindingsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListBindingsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * ListSubscriptions lists a queue's subscriptions.
     * </pre>
     */
    public void listSubscriptions(dev.conveyor.v1.ListSubscriptionsRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.ListSubscriptionsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListSubscriptionsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * DeleteSubscription deletes a subscription; its in-flight deliveries go back to the queue.
     * </pre>
     */
    public void deleteSubscription(dev.conveyor.v1.DeleteSubscriptionRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.DeleteSubscriptionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteSubscriptionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * GetQueueStats reads depth, age and counters of a queue.
     * </pre>
     */
    public void getQueueStats(dev.conveyor.v1.GetQueueStatsRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.GetQueueStatsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetQueueStatsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * PeekMessages reads messages without delivering them.
     * </pre>
     */
    public void peekMessages(dev.conveyor.v1.PeekMessagesRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.PeekMessagesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getPeekMessagesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * ListDeadLetters lists the messages of a dead-letter queue with why they are there.
     * </pre>
     */
    public void listDeadLetters(dev.conveyor.v1.ListDeadLettersRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.ListDeadLettersResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListDeadLettersMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * RedriveDeadLetters moves dead letters back to their source queue (or a destination).
     * </pre>
     */
    public void redriveDeadLetters(dev.conveyor.v1.RedriveDeadLettersRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.RedriveDeadLettersResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRedriveDeadLettersMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * PauseQueue stops deliveries from a queue: sends are still accepted and stored, Receive
     * streams stay open but idle, Pull returns nothing; leases already handed out run on (acks
     * count, an expired lease makes its message ready again without redelivering it). Durable
     * across restarts. Pausing a paused queue changes nothing.
     * </pre>
     */
    public void pauseQueue(dev.conveyor.v1.PauseQueueRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.PauseQueueResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getPauseQueueMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * ResumeQueue lets a paused queue deliver again (waiting consumers are woken at once).
     * </pre>
     */
    public void resumeQueue(dev.conveyor.v1.ResumeQueueRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.ResumeQueueResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getResumeQueueMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * ListQueueStats reads the stats of every queue (whose name starts with `prefix`) at once,
     * by name: what an overview (`conveyor stats`, `conveyor top`, a console) shows.
     * </pre>
     */
    public void listQueueStats(dev.conveyor.v1.ListQueueStatsRequest request,
        io.grpc.stub.StreamObserver<dev.conveyor.v1.ListQueueStatsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListQueueStatsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service Admin.
   * <pre>
   * Admin is the control plane: queues, bindings, subscriptions, stats and dead letters.
   * </pre>
   */
  public static final class AdminBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<AdminBlockingV2Stub> {
    private AdminBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * CreateQueue creates a queue; ALREADY_EXISTS if the name is taken.
     * </pre>
     */
    public dev.conveyor.v1.CreateQueueResponse createQueue(dev.conveyor.v1.CreateQueueRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreateQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * GetQueue reads a queue's configuration, with defaults filled in.
     * </pre>
     */
    public dev.conveyor.v1.GetQueueResponse getQueue(dev.conveyor.v1.GetQueueRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ListQueues lists every queue, by name.
     * </pre>
     */
    public dev.conveyor.v1.ListQueuesResponse listQueues(dev.conveyor.v1.ListQueuesRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListQueuesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * UpdateQueue changes a queue's configuration at run time.
     * </pre>
     */
    public dev.conveyor.v1.UpdateQueueResponse updateQueue(dev.conveyor.v1.UpdateQueueRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getUpdateQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * DeleteQueue deletes a queue, its messages, subscriptions and bindings.
     * </pre>
     */
    public dev.conveyor.v1.DeleteQueueResponse deleteQueue(dev.conveyor.v1.DeleteQueueRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * PurgeQueue deletes every message of a queue that is not in flight.
     * </pre>
     */
    public dev.conveyor.v1.PurgeQueueResponse purgeQueue(dev.conveyor.v1.PurgeQueueRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getPurgeQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * CreateBinding routes topics matching a pattern into a queue.
     * </pre>
     */
    public dev.conveyor.v1.CreateBindingResponse createBinding(dev.conveyor.v1.CreateBindingRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreateBindingMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * DeleteBinding removes a binding.
     * </pre>
     */
    public dev.conveyor.v1.DeleteBindingResponse deleteBinding(dev.conveyor.v1.DeleteBindingRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteBindingMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ListBindings lists bindings, of one queue or all.
     * </pre>
     */
    public dev.conveyor.v1.ListBindingsResponse listBindings(dev.conveyor.v1.ListBindingsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListBindingsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ListSubscriptions lists a queue's subscriptions.
     * </pre>
     */
    public dev.conveyor.v1.ListSubscriptionsResponse listSubscriptions(dev.conveyor.v1.ListSubscriptionsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListSubscriptionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * DeleteSubscription deletes a subscription; its in-flight deliveries go back to the queue.
     * </pre>
     */
    public dev.conveyor.v1.DeleteSubscriptionResponse deleteSubscription(dev.conveyor.v1.DeleteSubscriptionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteSubscriptionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * GetQueueStats reads depth, age and counters of a queue.
     * </pre>
     */
    public dev.conveyor.v1.GetQueueStatsResponse getQueueStats(dev.conveyor.v1.GetQueueStatsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetQueueStatsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * PeekMessages reads messages without delivering them.
     * </pre>
     */
    public dev.conveyor.v1.PeekMessagesResponse peekMessages(dev.conveyor.v1.PeekMessagesRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getPeekMessagesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ListDeadLetters lists the messages of a dead-letter queue with why they are there.
     * </pre>
     */
    public dev.conveyor.v1.ListDeadLettersResponse listDeadLetters(dev.conveyor.v1.ListDeadLettersRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListDeadLettersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * RedriveDeadLetters moves dead letters back to their source queue (or a destination).
     * </pre>
     */
    public dev.conveyor.v1.RedriveDeadLettersResponse redriveDeadLetters(dev.conveyor.v1.RedriveDeadLettersRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getRedriveDeadLettersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * PauseQueue stops deliveries from a queue: sends are still accepted and stored, Receive
     * streams stay open but idle, Pull returns nothing; leases already handed out run on (acks
     * count, an expired lease makes its message ready again without redelivering it). Durable
     * across restarts. Pausing a paused queue changes nothing.
     * </pre>
     */
    public dev.conveyor.v1.PauseQueueResponse pauseQueue(dev.conveyor.v1.PauseQueueRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getPauseQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ResumeQueue lets a paused queue deliver again (waiting consumers are woken at once).
     * </pre>
     */
    public dev.conveyor.v1.ResumeQueueResponse resumeQueue(dev.conveyor.v1.ResumeQueueRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getResumeQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ListQueueStats reads the stats of every queue (whose name starts with `prefix`) at once,
     * by name: what an overview (`conveyor stats`, `conveyor top`, a console) shows.
     * </pre>
     */
    public dev.conveyor.v1.ListQueueStatsResponse listQueueStats(dev.conveyor.v1.ListQueueStatsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListQueueStatsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service Admin.
   * <pre>
   * Admin is the control plane: queues, bindings, subscriptions, stats and dead letters.
   * </pre>
   */
  public static final class AdminBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<AdminBlockingStub> {
    private AdminBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * CreateQueue creates a queue; ALREADY_EXISTS if the name is taken.
     * </pre>
     */
    public dev.conveyor.v1.CreateQueueResponse createQueue(dev.conveyor.v1.CreateQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * GetQueue reads a queue's configuration, with defaults filled in.
     * </pre>
     */
    public dev.conveyor.v1.GetQueueResponse getQueue(dev.conveyor.v1.GetQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ListQueues lists every queue, by name.
     * </pre>
     */
    public dev.conveyor.v1.ListQueuesResponse listQueues(dev.conveyor.v1.ListQueuesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListQueuesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * UpdateQueue changes a queue's configuration at run time.
     * </pre>
     */
    public dev.conveyor.v1.UpdateQueueResponse updateQueue(dev.conveyor.v1.UpdateQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpdateQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * DeleteQueue deletes a queue, its messages, subscriptions and bindings.
     * </pre>
     */
    public dev.conveyor.v1.DeleteQueueResponse deleteQueue(dev.conveyor.v1.DeleteQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * PurgeQueue deletes every message of a queue that is not in flight.
     * </pre>
     */
    public dev.conveyor.v1.PurgeQueueResponse purgeQueue(dev.conveyor.v1.PurgeQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getPurgeQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * CreateBinding routes topics matching a pattern into a queue.
     * </pre>
     */
    public dev.conveyor.v1.CreateBindingResponse createBinding(dev.conveyor.v1.CreateBindingRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateBindingMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * DeleteBinding removes a binding.
     * </pre>
     */
    public dev.conveyor.v1.DeleteBindingResponse deleteBinding(dev.conveyor.v1.DeleteBindingRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteBindingMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ListBindings lists bindings, of one queue or all.
     * </pre>
     */
    public dev.conveyor.v1.ListBindingsResponse listBindings(dev.conveyor.v1.ListBindingsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListBindingsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ListSubscriptions lists a queue's subscriptions.
     * </pre>
     */
    public dev.conveyor.v1.ListSubscriptionsResponse listSubscriptions(dev.conveyor.v1.ListSubscriptionsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListSubscriptionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * DeleteSubscription deletes a subscription; its in-flight deliveries go back to the queue.
     * </pre>
     */
    public dev.conveyor.v1.DeleteSubscriptionResponse deleteSubscription(dev.conveyor.v1.DeleteSubscriptionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteSubscriptionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * GetQueueStats reads depth, age and counters of a queue.
     * </pre>
     */
    public dev.conveyor.v1.GetQueueStatsResponse getQueueStats(dev.conveyor.v1.GetQueueStatsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetQueueStatsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * PeekMessages reads messages without delivering them.
     * </pre>
     */
    public dev.conveyor.v1.PeekMessagesResponse peekMessages(dev.conveyor.v1.PeekMessagesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getPeekMessagesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ListDeadLetters lists the messages of a dead-letter queue with why they are there.
     * </pre>
     */
    public dev.conveyor.v1.ListDeadLettersResponse listDeadLetters(dev.conveyor.v1.ListDeadLettersRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListDeadLettersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * RedriveDeadLetters moves dead letters back to their source queue (or a destination).
     * </pre>
     */
    public dev.conveyor.v1.RedriveDeadLettersResponse redriveDeadLetters(dev.conveyor.v1.RedriveDeadLettersRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRedriveDeadLettersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * PauseQueue stops deliveries from a queue: sends are still accepted and stored, Receive
     * streams stay open but idle, Pull returns nothing; leases already handed out run on (acks
     * count, an expired lease makes its message ready again without redelivering it). Durable
     * across restarts. Pausing a paused queue changes nothing.
     * </pre>
     */
    public dev.conveyor.v1.PauseQueueResponse pauseQueue(dev.conveyor.v1.PauseQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getPauseQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ResumeQueue lets a paused queue deliver again (waiting consumers are woken at once).
     * </pre>
     */
    public dev.conveyor.v1.ResumeQueueResponse resumeQueue(dev.conveyor.v1.ResumeQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getResumeQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ListQueueStats reads the stats of every queue (whose name starts with `prefix`) at once,
     * by name: what an overview (`conveyor stats`, `conveyor top`, a console) shows.
     * </pre>
     */
    public dev.conveyor.v1.ListQueueStatsResponse listQueueStats(dev.conveyor.v1.ListQueueStatsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListQueueStatsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service Admin.
   * <pre>
   * Admin is the control plane: queues, bindings, subscriptions, stats and dead letters.
   * </pre>
   */
  public static final class AdminFutureStub
      extends io.grpc.stub.AbstractFutureStub<AdminFutureStub> {
    private AdminFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * CreateQueue creates a queue; ALREADY_EXISTS if the name is taken.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.CreateQueueResponse> createQueue(
        dev.conveyor.v1.CreateQueueRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateQueueMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * GetQueue reads a queue's configuration, with defaults filled in.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.GetQueueResponse> getQueue(
        dev.conveyor.v1.GetQueueRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetQueueMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * ListQueues lists every queue, by name.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.ListQueuesResponse> listQueues(
        dev.conveyor.v1.ListQueuesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListQueuesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * UpdateQueue changes a queue's configuration at run time.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.UpdateQueueResponse> updateQueue(
        dev.conveyor.v1.UpdateQueueRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpdateQueueMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * DeleteQueue deletes a queue, its messages, subscriptions and bindings.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.DeleteQueueResponse> deleteQueue(
        dev.conveyor.v1.DeleteQueueRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteQueueMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * PurgeQueue deletes every message of a queue that is not in flight.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.PurgeQueueResponse> purgeQueue(
        dev.conveyor.v1.PurgeQueueRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getPurgeQueueMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * CreateBinding routes topics matching a pattern into a queue.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.CreateBindingResponse> createBinding(
        dev.conveyor.v1.CreateBindingRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateBindingMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * DeleteBinding removes a binding.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.DeleteBindingResponse> deleteBinding(
        dev.conveyor.v1.DeleteBindingRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteBindingMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * ListBindings lists bindings, of one queue or all.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.ListBindingsResponse> listBindings(
        dev.conveyor.v1.ListBindingsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListBindingsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * ListSubscriptions lists a queue's subscriptions.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.ListSubscriptionsResponse> listSubscriptions(
        dev.conveyor.v1.ListSubscriptionsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListSubscriptionsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * DeleteSubscription deletes a subscription; its in-flight deliveries go back to the queue.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.DeleteSubscriptionResponse> deleteSubscription(
        dev.conveyor.v1.DeleteSubscriptionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteSubscriptionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * GetQueueStats reads depth, age and counters of a queue.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.GetQueueStatsResponse> getQueueStats(
        dev.conveyor.v1.GetQueueStatsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetQueueStatsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * PeekMessages reads messages without delivering them.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.PeekMessagesResponse> peekMessages(
        dev.conveyor.v1.PeekMessagesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getPeekMessagesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * ListDeadLetters lists the messages of a dead-letter queue with why they are there.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.ListDeadLettersResponse> listDeadLetters(
        dev.conveyor.v1.ListDeadLettersRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListDeadLettersMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * RedriveDeadLetters moves dead letters back to their source queue (or a destination).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.RedriveDeadLettersResponse> redriveDeadLetters(
        dev.conveyor.v1.RedriveDeadLettersRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRedriveDeadLettersMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * PauseQueue stops deliveries from a queue: sends are still accepted and stored, Receive
     * streams stay open but idle, Pull returns nothing; leases already handed out run on (acks
     * count, an expired lease makes its message ready again without redelivering it). Durable
     * across restarts. Pausing a paused queue changes nothing.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.PauseQueueResponse> pauseQueue(
        dev.conveyor.v1.PauseQueueRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getPauseQueueMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * ResumeQueue lets a paused queue deliver again (waiting consumers are woken at once).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.ResumeQueueResponse> resumeQueue(
        dev.conveyor.v1.ResumeQueueRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getResumeQueueMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * ListQueueStats reads the stats of every queue (whose name starts with `prefix`) at once,
     * by name: what an overview (`conveyor stats`, `conveyor top`, a console) shows.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.conveyor.v1.ListQueueStatsResponse> listQueueStats(
        dev.conveyor.v1.ListQueueStatsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListQueueStatsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_QUEUE = 0;
  private static final int METHODID_GET_QUEUE = 1;
  private static final int METHODID_LIST_QUEUES = 2;
  private static final int METHODID_UPDATE_QUEUE = 3;
  private static final int METHODID_DELETE_QUEUE = 4;
  private static final int METHODID_PURGE_QUEUE = 5;
  private static final int METHODID_CREATE_BINDING = 6;
  private static final int METHODID_DELETE_BINDING = 7;
  private static final int METHODID_LIST_BINDINGS = 8;
  private static final int METHODID_LIST_SUBSCRIPTIONS = 9;
  private static final int METHODID_DELETE_SUBSCRIPTION = 10;
  private static final int METHODID_GET_QUEUE_STATS = 11;
  private static final int METHODID_PEEK_MESSAGES = 12;
  private static final int METHODID_LIST_DEAD_LETTERS = 13;
  private static final int METHODID_REDRIVE_DEAD_LETTERS = 14;
  private static final int METHODID_PAUSE_QUEUE = 15;
  private static final int METHODID_RESUME_QUEUE = 16;
  private static final int METHODID_LIST_QUEUE_STATS = 17;

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
        case METHODID_CREATE_QUEUE:
          serviceImpl.createQueue((dev.conveyor.v1.CreateQueueRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.CreateQueueResponse>) responseObserver);
          break;
        case METHODID_GET_QUEUE:
          serviceImpl.getQueue((dev.conveyor.v1.GetQueueRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.GetQueueResponse>) responseObserver);
          break;
        case METHODID_LIST_QUEUES:
          serviceImpl.listQueues((dev.conveyor.v1.ListQueuesRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.ListQueuesResponse>) responseObserver);
          break;
        case METHODID_UPDATE_QUEUE:
          serviceImpl.updateQueue((dev.conveyor.v1.UpdateQueueRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.UpdateQueueResponse>) responseObserver);
          break;
        case METHODID_DELETE_QUEUE:
          serviceImpl.deleteQueue((dev.conveyor.v1.DeleteQueueRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.DeleteQueueResponse>) responseObserver);
          break;
        case METHODID_PURGE_QUEUE:
          serviceImpl.purgeQueue((dev.conveyor.v1.PurgeQueueRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.PurgeQueueResponse>) responseObserver);
          break;
        case METHODID_CREATE_BINDING:
          serviceImpl.createBinding((dev.conveyor.v1.CreateBindingRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.CreateBindingResponse>) responseObserver);
          break;
        case METHODID_DELETE_BINDING:
          serviceImpl.deleteBinding((dev.conveyor.v1.DeleteBindingRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.DeleteBindingResponse>) responseObserver);
          break;
        case METHODID_LIST_BINDINGS:
          serviceImpl.listBindings((dev.conveyor.v1.ListBindingsRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.ListBindingsResponse>) responseObserver);
          break;
        case METHODID_LIST_SUBSCRIPTIONS:
          serviceImpl.listSubscriptions((dev.conveyor.v1.ListSubscriptionsRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.ListSubscriptionsResponse>) responseObserver);
          break;
        case METHODID_DELETE_SUBSCRIPTION:
          serviceImpl.deleteSubscription((dev.conveyor.v1.DeleteSubscriptionRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.DeleteSubscriptionResponse>) responseObserver);
          break;
        case METHODID_GET_QUEUE_STATS:
          serviceImpl.getQueueStats((dev.conveyor.v1.GetQueueStatsRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.GetQueueStatsResponse>) responseObserver);
          break;
        case METHODID_PEEK_MESSAGES:
          serviceImpl.peekMessages((dev.conveyor.v1.PeekMessagesRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.PeekMessagesResponse>) responseObserver);
          break;
        case METHODID_LIST_DEAD_LETTERS:
          serviceImpl.listDeadLetters((dev.conveyor.v1.ListDeadLettersRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.ListDeadLettersResponse>) responseObserver);
          break;
        case METHODID_REDRIVE_DEAD_LETTERS:
          serviceImpl.redriveDeadLetters((dev.conveyor.v1.RedriveDeadLettersRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.RedriveDeadLettersResponse>) responseObserver);
          break;
        case METHODID_PAUSE_QUEUE:
          serviceImpl.pauseQueue((dev.conveyor.v1.PauseQueueRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.PauseQueueResponse>) responseObserver);
          break;
        case METHODID_RESUME_QUEUE:
          serviceImpl.resumeQueue((dev.conveyor.v1.ResumeQueueRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.ResumeQueueResponse>) responseObserver);
          break;
        case METHODID_LIST_QUEUE_STATS:
          serviceImpl.listQueueStats((dev.conveyor.v1.ListQueueStatsRequest) request,
              (io.grpc.stub.StreamObserver<dev.conveyor.v1.ListQueueStatsResponse>) responseObserver);
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
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getCreateQueueMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.CreateQueueRequest,
              dev.conveyor.v1.CreateQueueResponse>(
                service, METHODID_CREATE_QUEUE)))
        .addMethod(
          getGetQueueMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.GetQueueRequest,
              dev.conveyor.v1.GetQueueResponse>(
                service, METHODID_GET_QUEUE)))
        .addMethod(
          getListQueuesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.ListQueuesRequest,
              dev.conveyor.v1.ListQueuesResponse>(
                service, METHODID_LIST_QUEUES)))
        .addMethod(
          getUpdateQueueMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.UpdateQueueRequest,
              dev.conveyor.v1.UpdateQueueResponse>(
                service, METHODID_UPDATE_QUEUE)))
        .addMethod(
          getDeleteQueueMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.DeleteQueueRequest,
              dev.conveyor.v1.DeleteQueueResponse>(
                service, METHODID_DELETE_QUEUE)))
        .addMethod(
          getPurgeQueueMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.PurgeQueueRequest,
              dev.conveyor.v1.PurgeQueueResponse>(
                service, METHODID_PURGE_QUEUE)))
        .addMethod(
          getCreateBindingMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.CreateBindingRequest,
              dev.conveyor.v1.CreateBindingResponse>(
                service, METHODID_CREATE_BINDING)))
        .addMethod(
          getDeleteBindingMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.DeleteBindingRequest,
              dev.conveyor.v1.DeleteBindingResponse>(
                service, METHODID_DELETE_BINDING)))
        .addMethod(
          getListBindingsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.ListBindingsRequest,
              dev.conveyor.v1.ListBindingsResponse>(
                service, METHODID_LIST_BINDINGS)))
        .addMethod(
          getListSubscriptionsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.ListSubscriptionsRequest,
              dev.conveyor.v1.ListSubscriptionsResponse>(
                service, METHODID_LIST_SUBSCRIPTIONS)))
        .addMethod(
          getDeleteSubscriptionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.DeleteSubscriptionRequest,
              dev.conveyor.v1.DeleteSubscriptionResponse>(
                service, METHODID_DELETE_SUBSCRIPTION)))
        .addMethod(
          getGetQueueStatsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.GetQueueStatsRequest,
              dev.conveyor.v1.GetQueueStatsResponse>(
                service, METHODID_GET_QUEUE_STATS)))
        .addMethod(
          getPeekMessagesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.PeekMessagesRequest,
              dev.conveyor.v1.PeekMessagesResponse>(
                service, METHODID_PEEK_MESSAGES)))
        .addMethod(
          getListDeadLettersMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.ListDeadLettersRequest,
              dev.conveyor.v1.ListDeadLettersResponse>(
                service, METHODID_LIST_DEAD_LETTERS)))
        .addMethod(
          getRedriveDeadLettersMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.RedriveDeadLettersRequest,
              dev.conveyor.v1.RedriveDeadLettersResponse>(
                service, METHODID_REDRIVE_DEAD_LETTERS)))
        .addMethod(
          getPauseQueueMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.PauseQueueRequest,
              dev.conveyor.v1.PauseQueueResponse>(
                service, METHODID_PAUSE_QUEUE)))
        .addMethod(
          getResumeQueueMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.ResumeQueueRequest,
              dev.conveyor.v1.ResumeQueueResponse>(
                service, METHODID_RESUME_QUEUE)))
        .addMethod(
          getListQueueStatsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.conveyor.v1.ListQueueStatsRequest,
              dev.conveyor.v1.ListQueueStatsResponse>(
                service, METHODID_LIST_QUEUE_STATS)))
        .build();
  }

  private static abstract class AdminBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    AdminBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.conveyor.v1.AdminOuterClass.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("Admin");
    }
  }

  private static final class AdminFileDescriptorSupplier
      extends AdminBaseDescriptorSupplier {
    AdminFileDescriptorSupplier() {}
  }

  private static final class AdminMethodDescriptorSupplier
      extends AdminBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    AdminMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (AdminGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new AdminFileDescriptorSupplier())
              .addMethod(getCreateQueueMethod())
              .addMethod(getGetQueueMethod())
              .addMethod(getListQueuesMethod())
              .addMethod(getUpdateQueueMethod())
              .addMethod(getDeleteQueueMethod())
              .addMethod(getPurgeQueueMethod())
              .addMethod(getCreateBindingMethod())
              .addMethod(getDeleteBindingMethod())
              .addMethod(getListBindingsMethod())
              .addMethod(getListSubscriptionsMethod())
              .addMethod(getDeleteSubscriptionMethod())
              .addMethod(getGetQueueStatsMethod())
              .addMethod(getPeekMessagesMethod())
              .addMethod(getListDeadLettersMethod())
              .addMethod(getRedriveDeadLettersMethod())
              .addMethod(getPauseQueueMethod())
              .addMethod(getResumeQueueMethod())
              .addMethod(getListQueueStatsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
