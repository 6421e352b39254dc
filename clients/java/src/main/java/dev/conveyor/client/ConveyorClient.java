package dev.conveyor.client;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import dev.conveyor.v1.AdminGrpc;
import dev.conveyor.v1.BrokerGrpc;
import dev.conveyor.v1.Delivery;
import dev.conveyor.v1.Message;
import dev.conveyor.v1.SendRequest;
import dev.conveyor.v1.SendResponse;
import dev.conveyor.v1.StreamingReceiveRequest;
import dev.conveyor.v1.StreamingReceiveResponse;
import io.grpc.CallCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A thin Java client for Conveyor: asynchronous publish with a result per message, and a consume
 * loop that acks what its handler accepts and nacks what it throws. The generated stubs stay
 * reachable ({@link #broker()}, {@link #admin()}) for everything else.
 */
public final class ConveyorClient implements AutoCloseable {
  /**
   * Handles one delivery: returning acks it, throwing nacks it (redelivered with backoff), with
   * {@link ConveyorClient#nackReason} of the exception as the nack's reason, shown on the
   * message's dead letter.
   */
  @FunctionalInterface
  public interface Handler {
    void handle(Delivery delivery) throws Exception;
  }

  /** Longest nack reason sent, in characters (code points), as in the other SDKs. */
  public static final int MAX_REASON_CHARS = 1000;

  /**
   * The reason a consumer sends with the nack of a delivery whose handler threw {@code e}: the
   * exception's simple class name, ": " and its message (the name alone when it has none), cut to
   * {@link #MAX_REASON_CHARS} code points (so never between the halves of a surrogate pair).
   */
  public static String nackReason(Throwable e) {
    String name = e.getClass().getSimpleName();
    if (name.isEmpty()) { // an anonymous class
      name = e.getClass().getName();
    }
    String text = e.getMessage() == null ? name : name + ": " + e.getMessage();
    if (text.codePointCount(0, text.length()) <= MAX_REASON_CHARS) {
      return text;
    }
    return text.substring(0, text.offsetByCodePoints(0, MAX_REASON_CHARS));
  }

  private final ManagedChannel channel;
  private final BrokerGrpc.BrokerFutureStub brokerFuture;
  private final BrokerGrpc.BrokerStub brokerAsync;
  private final CallCredentials credentials;

  public ConveyorClient(String target) {
    this(ManagedChannelBuilder.forTarget(target).usePlaintext().build());
  }

  /**
   * Connects to target with TLS, mutual TLS and a bearer token as {@code security} says (for
   * instance {@code ClientSecurity.fromEnv()}, or {@code
   * ClientSecurity.NONE.tlsCa(Path.of("ca.pem")).token(token)}).
   */
  public ConveyorClient(String target, ClientSecurity security) {
    this(
        Grpc.newChannelBuilder(target, security.channelCredentials()).build(),
        security.callCredentials());
  }

  public ConveyorClient(ManagedChannel channel) {
    this(channel, null);
  }

  /** Wraps channel; {@code credentials} (null: none) go on every call of every stub. */
  public ConveyorClient(ManagedChannel channel, CallCredentials credentials) {
    this.channel = channel;
    this.credentials = credentials;
    this.brokerFuture = BrokerGrpc.newFutureStub(channel).withCallCredentials(credentials);
    this.brokerAsync = BrokerGrpc.newStub(channel).withCallCredentials(credentials);
  }

  public BrokerGrpc.BrokerBlockingStub broker() {
    return BrokerGrpc.newBlockingStub(channel).withCallCredentials(credentials);
  }

  public AdminGrpc.AdminBlockingStub admin() {
    return AdminGrpc.newBlockingStub(channel).withCallCredentials(credentials);
  }

  /** Sends messages to queue ("" routes by topic) in one call; completes with one result each. */
  public CompletableFuture<List<PublishResult>> publish(String queue, List<Message> messages) {
    return send(SendRequest.newBuilder().setQueue(queue).addAllMessages(messages).build());
  }

  /** Like publish, with the whole request (wait_for, timeout). */
  public CompletableFuture<List<PublishResult>> send(SendRequest request) {
    CompletableFuture<List<PublishResult>> out = new CompletableFuture<>();
    Futures.addCallback(
        brokerFuture.send(request),
        new FutureCallback<SendResponse>() {
          @Override
          public void onSuccess(SendResponse r) {
            out.complete(PublishResult.of(r));
          }

          @Override
          public void onFailure(Throwable t) {
            out.completeExceptionally(ConveyorException.from(t));
          }
        },
        MoreExecutors.directExecutor());
    return out;
  }

  /**
   * Starts consuming on one StreamingReceive stream. {@code first} names the queue, subscription
   * and flow control. The handler runs one delivery at a time; each frame's acks and nacks (each
   * with its {@link #nackReason}) go back together on the stream. {@link Consumer#stop()} sends
   * the acks so far and closes the stream.
   */
  public Consumer consume(StreamingReceiveRequest first, Handler handler) {
    Consumer consumer = new Consumer(handler);
    consumer.requests = brokerAsync.streamingReceive(consumer);
    consumer.write(first);
    return consumer;
  }

  /** A running consume loop. */
  public static final class Consumer implements StreamObserver<StreamingReceiveResponse> {
    private final Handler handler;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    StreamObserver<StreamingReceiveRequest> requests; // set once by consume (or a unit test)
    private boolean stopping; // guarded by this
    private boolean handling; // guarded by this: inside onNext, where acks are still to be sent
    private boolean closed; // guarded by this: our side of the stream is half-closed

    Consumer(Handler handler) {
      this.handler = handler;
    }

    synchronized void write(StreamingReceiveRequest r) {
      if (!closed) {
        requests.onNext(r);
      }
    }

    /** Completes when the stream has ended: normally after stop(), exceptionally on an error. */
    public CompletableFuture<Void> done() {
      return done;
    }

    /**
     * Stops taking deliveries and half-closes once the acks of finished work are sent; the server
     * returns unhandled deliveries at once. Safe to call from a handler.
     */
    public synchronized void stop() {
      stopping = true;
      if (!handling) {
        close();
      }
    }

    private void close() { // with the lock held
      if (!closed) {
        closed = true;
        requests.onCompleted();
      }
    }

    private synchronized boolean stopping() {
      return stopping;
    }

    @Override
    public void onNext(StreamingReceiveResponse response) {
      synchronized (this) {
        handling = true;
      }
      List<String> acks = new ArrayList<>();
      List<String> nacks = new ArrayList<>();
      List<String> reasons = new ArrayList<>(); // one per nack, in the same order
      for (Delivery d : response.getDeliveriesList()) {
        if (stopping()) {
          break; // left for the server to return when the stream closes
        }
        try {
          handler.handle(d);
          acks.add(d.getAckId());
        } catch (Exception e) {
          nacks.add(d.getAckId());
          reasons.add(nackReason(e));
        }
      }
      synchronized (this) {
        handling = false;
        if ((!acks.isEmpty() || !nacks.isEmpty()) && !closed) {
          requests.onNext(
              StreamingReceiveRequest.newBuilder()
                  .addAllAckIds(acks)
                  .addAllNackIds(nacks)
                  .addAllNackReasons(reasons)
                  .build());
        }
        if (stopping) {
          close();
        }
      }
    }

    @Override
    public void onError(Throwable t) {
      if (stopping() && ConveyorException.isCancelled(t)) {
        done.complete(null);
      } else {
        done.completeExceptionally(ConveyorException.from(t));
      }
    }

    @Override
    public void onCompleted() {
      done.complete(null);
    }
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdown().awaitTermination(5, TimeUnit.SECONDS);
  }
}
