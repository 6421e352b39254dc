package conveyor

import (
	"context"
	"net"
	"strings"
	"testing"

	pb "github.com/conveyor-broker/conveyor/generated/go/conveyor/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestZeroSecurityIsPlaintextWithoutToken(t *testing.T) {
	cfg, err := Security{}.TLSConfig()
	if err != nil || cfg != nil {
		t.Fatalf("TLSConfig() = %v, %v; want nil, nil", cfg, err)
	}
	opts, err := Security{}.DialOptions()
	if err != nil || len(opts) != 1 {
		t.Fatalf("DialOptions() = %d options, %v; want only the transport", len(opts), err)
	}
}

func TestCertWithoutKeyIsRefused(t *testing.T) {
	_, err := Security{TLSCertPEM: []byte("x")}.TLSConfig()
	if err == nil || !strings.Contains(err.Error(), "go together") {
		t.Fatalf("err = %v", err)
	}
}

func TestCAWithoutCertificateIsRefused(t *testing.T) {
	_, err := Security{TLSCAPEM: []byte("not a pem")}.TLSConfig()
	if err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("err = %v", err)
	}
}

func TestMissingFileNamesWhatItWas(t *testing.T) {
	_, err := Security{TLSCA: t.TempDir() + "/missing.pem"}.TLSConfig()
	if err == nil || !strings.Contains(err.Error(), "tls CA") {
		t.Fatalf("err = %v", err)
	}
}

func TestSecurityFromEnv(t *testing.T) {
	t.Setenv("CONVEYOR_CLIENT_TLS_CA", "/ca.pem")
	t.Setenv("CONVEYOR_CLIENT_TLS_CERT", "/c.crt")
	t.Setenv("CONVEYOR_CLIENT_TLS_KEY", "/c.key")
	t.Setenv("CONVEYOR_TOKEN", "tok")
	want := Security{TLSCA: "/ca.pem", TLSCert: "/c.crt", TLSKey: "/c.key", Token: "tok"}
	if got := SecurityFromEnv(); got.TLSCA != want.TLSCA || got.TLSCert != want.TLSCert || got.TLSKey != want.TLSKey || got.Token != want.Token {
		t.Fatalf("SecurityFromEnv() = %+v", got)
	}
}

// recordingBroker refuses every call, after noting the authorization each one carried.
type recordingBroker struct {
	pb.UnimplementedBrokerServer
	seen chan string
}

func (r *recordingBroker) note(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	r.seen <- strings.Join(md.Get("authorization"), ",")
	return status.Error(codes.Unauthenticated, "noted")
}

func (r *recordingBroker) Send(ctx context.Context, _ *pb.SendRequest) (*pb.SendResponse, error) {
	return nil, r.note(ctx)
}

func (r *recordingBroker) StreamingReceive(s grpc.BidiStreamingServer[pb.StreamingReceiveRequest, pb.StreamingReceiveResponse]) error {
	return r.note(s.Context())
}

func TestTokenTravelsOnUnaryCallsAndStreams(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	rec := &recordingBroker{seen: make(chan string, 2)}
	pb.RegisterBrokerServer(srv, rec)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	c, err := DialSecure(lis.Addr().String(), Security{Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Publish(ctx, "q", &pb.Message{}); Code(err) != codes.Unauthenticated {
		t.Fatalf("Publish err = %v", err)
	}
	if err := c.Consume(ctx, ConsumeOptions{Queue: "q", Subscription: "s"}, nil); Code(err) != codes.Unauthenticated {
		t.Fatalf("Consume err = %v", err)
	}
	for _, call := range []string{"Send", "StreamingReceive"} {
		if got := <-rec.seen; got != "Bearer s3cret" {
			t.Fatalf("%s carried authorization %q", call, got)
		}
	}
}
