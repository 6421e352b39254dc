package dev.conveyor.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.conveyor.v1.BrokerGrpc;
import dev.conveyor.v1.Message;
import dev.conveyor.v1.SendRequest;
import dev.conveyor.v1.SendResponse;
import dev.conveyor.v1.StreamingReceiveRequest;
import dev.conveyor.v1.StreamingReceiveResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ClientSecurityTest {
  @Test
  void fromEnvReadsTheClisVariables() {
    ClientSecurity s =
        ClientSecurity.fromEnv(
            Map.of(
                "CONVEYOR_CLIENT_TLS_CA", "/nonexistent/ca.pem",
                "CONVEYOR_TOKEN", "tok"));
    assertEquals("tok", s.token().orElseThrow());
    // The CA path was taken: building the credentials reads it.
    assertThrows(java.io.UncheckedIOException.class, s::channelCredentials);
    assertTrue(ClientSecurity.fromEnv(Map.of()).token().isEmpty());
    assertTrue(ClientSecurity.fromEnv(Map.of()).channelCredentials() instanceof InsecureChannelCredentials);
  }

  @Test
  void aClientCertificateWithoutItsKeyIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ClientSecurity.NONE.tlsCert(Path.of("c.crt")).channelCredentials());
    assertTrue(e.getMessage().contains("go together"));
  }

  @Test
  void theTokenTravelsOnUnaryCallsAndStreams() throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    ServerInterceptor note =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            seen.add(String.valueOf(headers.get(ClientSecurity.AUTHORIZATION)));
            call.close(Status.UNAUTHENTICATED.withDescription("noted"), new Metadata());
            return new ServerCall.Listener<Q>() {};
          }
        };
    BrokerGrpc.BrokerImplBase broker =
        new BrokerGrpc.BrokerImplBase() {
          @Override
          public void send(SendRequest request, StreamObserver<SendResponse> out) {}

          @Override
          public StreamObserver<StreamingReceiveRequest> streamingReceive(
              StreamObserver<StreamingReceiveResponse> out) {
            return null;
          }
        };
    Server server =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(ServerInterceptors.intercept(broker, note))
            .build()
            .start();
    try (ConveyorClient c =
        new ConveyorClient("127.0.0.1:" + server.getPort(), ClientSecurity.NONE.token("s3cret"))) {
      ExecutionException sent =
          assertThrows(
              ExecutionException.class,
              () -> c.publish("q", List.of(Message.getDefaultInstance())).get(10, TimeUnit.SECONDS));
      assertEquals(Status.Code.UNAUTHENTICATED, ConveyorException.from(sent.getCause()).code());
      ConveyorClient.Consumer consumer =
          c.consume(
              StreamingReceiveRequest.newBuilder().setQueue("q").setSubscription("s").build(), d -> {});
      ExecutionException streamed =
          assertThrows(ExecutionException.class, () -> consumer.done().get(10, TimeUnit.SECONDS));
      assertEquals(Status.Code.UNAUTHENTICATED, ConveyorException.from(streamed.getCause()).code());
      assertEquals(List.of("Bearer s3cret", "Bearer s3cret"), seen);
    } finally {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
