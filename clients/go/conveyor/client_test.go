package conveyor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	pb "github.com/conveyor-broker/conveyor/generated/go/conveyor/v1"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// fakeBroker answers Send and StreamingReceive from the test; other methods are not used.
type fakeBroker struct {
	pb.BrokerClient
	sendResp *pb.SendResponse
	sendErr  error
	stream   *fakeStream
}

func (f *fakeBroker) Send(ctx context.Context, in *pb.SendRequest, _ ...grpc.CallOption) (*pb.SendResponse, error) {
	return f.sendResp, f.sendErr
}

func (f *fakeBroker) StreamingReceive(ctx context.Context, _ ...grpc.CallOption) (grpc.BidiStreamingClient[pb.StreamingReceiveRequest, pb.StreamingReceiveResponse], error) {
	return f.stream, nil
}

type fakeStream struct {
	grpc.ClientStream
	frames []*pb.StreamingReceiveResponse
	sent   []*pb.StreamingReceiveRequest
	closed bool
}

func (s *fakeStream) Send(r *pb.StreamingReceiveRequest) error {
	s.sent = append(s.sent, r)
	return nil
}

func (s *fakeStream) Recv() (*pb.StreamingReceiveResponse, error) {
	if len(s.frames) == 0 {
		return nil, io.EOF
	}
	f := s.frames[0]
	s.frames = s.frames[1:]
	return f, nil
}

func (s *fakeStream) CloseSend() error {
	s.closed = true
	return nil
}

func TestPublishReportsEachMessage(t *testing.T) {
	c := &Client{Broker: &fakeBroker{sendResp: &pb.SendResponse{Results: []*pb.SendResult{
		{MessageId: "m1", Queues: []string{"q"}},
		{Error: &rpcstatus.Status{Code: int32(codes.ResourceExhausted), Message: "too large"}},
	}}}}
	results, err := c.Publish(context.Background(), "q", &pb.Message{}, &pb.Message{})
	if err != nil {
		t.Fatal(err)
	}
	if results[0].ID != "m1" || results[0].Err != nil {
		t.Fatalf("first result: %+v", results[0])
	}
	if Code(results[1].Err) != codes.ResourceExhausted {
		t.Fatalf("second result: %+v", results[1])
	}
}

func TestPublishTypesACallError(t *testing.T) {
	c := &Client{Broker: &fakeBroker{sendErr: status.Error(codes.NotFound, "no queue")}}
	_, err := c.Publish(context.Background(), "missing", &pb.Message{})
	var e *Error
	if !errors.As(err, &e) || e.Code != codes.NotFound || e.Message != "no queue" {
		t.Fatalf("got %v", err)
	}
}

func TestConsumeAcksSuccessesAndNacksFailuresPerFrame(t *testing.T) {
	stream := &fakeStream{frames: []*pb.StreamingReceiveResponse{{Deliveries: []*pb.Delivery{
		{AckId: "a1", Message: &pb.Message{Payload: []byte("ok")}},
		{AckId: "a2", Message: &pb.Message{Payload: []byte("bad")}},
		{AckId: "a3", Message: &pb.Message{Payload: []byte("ok")}},
	}}}}
	c := &Client{Broker: &fakeBroker{stream: stream}}
	err := c.Consume(context.Background(), ConsumeOptions{Queue: "q", Subscription: "s", MaxOutstandingMessages: 7},
		func(ctx context.Context, d *pb.Delivery) error {
			if string(d.GetMessage().GetPayload()) == "bad" {
				return errors.New("rejected")
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(stream.sent) != 2 {
		t.Fatalf("want the opening request and one settle frame, got %d", len(stream.sent))
	}
	open, settle := stream.sent[0], stream.sent[1]
	if open.GetQueue() != "q" || open.GetSubscription() != "s" || open.GetMaxOutstandingMessages() != 7 {
		t.Fatalf("opening request: %v", open)
	}
	if got := settle.GetAckIds(); len(got) != 2 || got[0] != "a1" || got[1] != "a3" {
		t.Fatalf("acks: %v", got)
	}
	if got := settle.GetNackIds(); len(got) != 1 || got[0] != "a2" {
		t.Fatalf("nacks: %v", got)
	}
	if got := settle.GetNackReasons(); len(got) != 1 || got[0] != "rejected" {
		t.Fatalf("nack reasons: %q", got)
	}
}

func TestConsumeSendsOneReasonPerNackAndNoneWithoutNacks(t *testing.T) {
	stream := &fakeStream{frames: []*pb.StreamingReceiveResponse{
		{Deliveries: []*pb.Delivery{{AckId: "a1"}, {AckId: "a2"}, {AckId: "a3"}}},
		{Deliveries: []*pb.Delivery{{AckId: "ok"}}},
	}}
	c := &Client{Broker: &fakeBroker{stream: stream}}
	err := c.Consume(context.Background(), ConsumeOptions{Queue: "q", Subscription: "s"},
		func(_ context.Context, d *pb.Delivery) error {
			if d.GetAckId() == "ok" {
				return nil
			}
			return fmt.Errorf("wrapped: %w", errors.New("failed "+d.GetAckId()))
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(stream.sent) != 3 {
		t.Fatalf("want the opening request and two settle frames, got %d", len(stream.sent))
	}
	nacks := stream.sent[1]
	if got := nacks.GetNackIds(); strings.Join(got, ",") != "a1,a2,a3" {
		t.Fatalf("nacks: %v", got)
	}
	want := []string{"wrapped: failed a1", "wrapped: failed a2", "wrapped: failed a3"}
	if got := nacks.GetNackReasons(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("nack reasons: %q", got)
	}
	if acks := stream.sent[2]; len(acks.GetAckIds()) != 1 || len(acks.GetNackReasons()) != 0 {
		t.Fatalf("an acks-only frame carries no reasons: %v", acks)
	}
}

func TestNackReasonIsCutAtMaxReasonCharsOnRuneBoundaries(t *testing.T) {
	if got := NackReason(nil); got != "" {
		t.Fatalf("nil: %q", got)
	}
	short := "naïve ✓ failure"
	if got := NackReason(errors.New(short)); got != short {
		t.Fatalf("a short reason is kept whole: %q", got)
	}
	exact := strings.Repeat("é", MaxReasonChars)
	if got := NackReason(errors.New(exact)); got != exact {
		t.Fatal("a reason of exactly MaxReasonChars runes is kept whole")
	}
	// 3 ASCII bytes then 2-, 3- and 4-byte runes: a cut by bytes would split one.
	long := "abc" + strings.Repeat("é✓💥", 600)
	got := NackReason(errors.New(long))
	if !utf8.ValidString(got) || utf8.RuneCountInString(got) != MaxReasonChars {
		t.Fatalf("cut reason: valid %v, %d runes", utf8.ValidString(got), utf8.RuneCountInString(got))
	}
	if !strings.HasPrefix(long, got) {
		t.Fatal("the cut reason is not the error text's beginning")
	}
}

func TestNackReasonMakesInvalidUTF8Valid(t *testing.T) {
	got := NackReason(errors.New("bad \xff byte"))
	if got != "bad \uFFFD byte" {
		t.Fatalf("got %q", got)
	}
	// Marshalling would fail on invalid UTF-8 and end the consume loop.
	if _, err := proto.Marshal(&pb.StreamingReceiveRequest{NackIds: []string{"a"}, NackReasons: []string{got}}); err != nil {
		t.Fatal(err)
	}
}

func TestConsumeStopsHandlingOnceCancelled(t *testing.T) {
	stream := &fakeStream{frames: []*pb.StreamingReceiveResponse{{Deliveries: []*pb.Delivery{
		{AckId: "a1"}, {AckId: "a2"},
	}}}}
	c := &Client{Broker: &fakeBroker{stream: stream}}
	ctx, cancel := context.WithCancel(context.Background())
	handled := 0
	err := c.Consume(ctx, ConsumeOptions{Queue: "q", Subscription: "s"}, func(context.Context, *pb.Delivery) error {
		handled++
		cancel() // the first handler stops the loop
		return nil
	})
	if err != nil || handled != 1 {
		t.Fatalf("err %v, handled %d", err, handled)
	}
	if got := stream.sent[1].GetAckIds(); len(got) != 1 || got[0] != "a1" {
		t.Fatalf("the finished delivery's ack was not sent: %v", stream.sent[1:])
	}
	if !stream.closed {
		t.Fatal("stream not half-closed")
	}
}
