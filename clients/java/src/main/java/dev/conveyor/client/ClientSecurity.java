package dev.conveyor.client;

import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * TLS material and the bearer token for a {@link ConveyorClient}: the same settings and
 * environment variables as the Python SDK ({@code tls_ca}, {@code tls_cert}, {@code tls_key},
 * {@code token}). Each PEM is a file path or the PEM bytes; immutable, each setter returns a
 * copy. {@link #NONE} is plaintext without a token.
 */
public final class ClientSecurity {
  public static final ClientSecurity NONE = new ClientSecurity(null, null, null, null);

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Object tlsCa; // Path or byte[]
  private final Object tlsCert;
  private final Object tlsKey;
  private final String token;

  private ClientSecurity(Object tlsCa, Object tlsCert, Object tlsKey, String token) {
    this.tlsCa = tlsCa;
    this.tlsCert = tlsCert;
    this.tlsKey = tlsKey;
    this.token = token;
  }

  /**
   * What the conveyor CLI reads from its environment: {@code CONVEYOR_CLIENT_TLS_CA}, {@code
   * CONVEYOR_CLIENT_TLS_CERT}, {@code CONVEYOR_CLIENT_TLS_KEY} (file paths) and {@code
   * CONVEYOR_TOKEN}.
   */
  public static ClientSecurity fromEnv() {
    return fromEnv(System.getenv());
  }

  static ClientSecurity fromEnv(Map<String, String> env) {
    return new ClientSecurity(
        path(env.get("CONVEYOR_CLIENT_TLS_CA")),
        path(env.get("CONVEYOR_CLIENT_TLS_CERT")),
        path(env.get("CONVEYOR_CLIENT_TLS_KEY")),
        empty(env.get("CONVEYOR_TOKEN")));
  }

  private static Path path(String s) {
    return s == null || s.isEmpty() ? null : Path.of(s);
  }

  private static String empty(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  /** The CA to trust (a PEM file); the system's roots when only a client certificate is given. */
  public ClientSecurity tlsCa(Path pem) {
    return new ClientSecurity(pem, tlsCert, tlsKey, token);
  }

  public ClientSecurity tlsCa(byte[] pem) {
    return new ClientSecurity(pem == null ? null : pem.clone(), tlsCert, tlsKey, token);
  }

  /** A client certificate for mTLS, with {@link #tlsKey}. */
  public ClientSecurity tlsCert(Path pem) {
    return new ClientSecurity(tlsCa, pem, tlsKey, token);
  }

  public ClientSecurity tlsCert(byte[] pem) {
    return new ClientSecurity(tlsCa, pem == null ? null : pem.clone(), tlsKey, token);
  }

  /** The client certificate's private key (PKCS#8 PEM). */
  public ClientSecurity tlsKey(Path pem) {
    return new ClientSecurity(tlsCa, tlsCert, pem, token);
  }

  public ClientSecurity tlsKey(byte[] pem) {
    return new ClientSecurity(tlsCa, tlsCert, pem == null ? null : pem.clone(), token);
  }

  /** Sent as {@code authorization: Bearer TOKEN} on every call, streams included; null: none. */
  public ClientSecurity token(String token) {
    return new ClientSecurity(tlsCa, tlsCert, tlsKey, empty(token));
  }

  public Optional<String> token() {
    return Optional.ofNullable(token);
  }

  /** TLS credentials from the PEM settings, or plaintext ones when none is set. */
  public ChannelCredentials channelCredentials() {
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new IllegalArgumentException(
          "tlsCert and tlsKey go together (a client certificate and its key)");
    }
    if (tlsCa == null && tlsCert == null) {
      return InsecureChannelCredentials.create();
    }
    TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
    try {
      if (tlsCa != null) {
        tls.trustManager(new ByteArrayInputStream(read(tlsCa)));
      }
      if (tlsCert != null) {
        tls.keyManager(new ByteArrayInputStream(read(tlsCert)), new ByteArrayInputStream(read(tlsKey)));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading TLS material: " + e.getMessage(), e);
    }
    return tls.build();
  }

  /** The token as call credentials, or null without one. */
  public CallCredentials callCredentials() {
    return token == null ? null : new Bearer(token);
  }

  private static byte[] read(Object pem) throws IOException {
    return pem instanceof Path p ? Files.readAllBytes(p) : (byte[]) pem;
  }

  /**
   * grpc-java applies call credentials on plaintext channels too: a token on a plaintext
   * channel is the caller's choice (e.g. inside a pod network), as in the Python SDK.
   */
  private static final class Bearer extends CallCredentials {
    private final String value;

    Bearer(String token) {
      this.value = "Bearer " + token;
    }

    @Override
    public void applyRequestMetadata(
        RequestInfo requestInfo, Executor appExecutor, MetadataApplier applier) {
      Metadata headers = new Metadata();
      headers.put(AUTHORIZATION, value);
      applier.apply(headers);
    }
  }
}
