// Package conveyor is a thin Go client for Conveyor, the gRPC message broker: publishing with a
// result per message, and a consume loop that acks what its handler accepts and nacks what it
// rejects. The generated stubs stay reachable as Client.Broker and Client.Admin for
// everything else.
package conveyor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	pb "github.com/conveyor-broker/conveyor/generated/go/conveyor/v1"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Client holds one connection and the generated stubs on it.
type Client struct {
	conn   *grpc.ClientConn
	Broker pb.BrokerClient
	Admin  pb.AdminClient
}

// Dial connects to target ("host:port"); without options the connection is plaintext.
func Dial(target string, opts ...grpc.DialOption) (*Client, error) {
	if len(opts) == 0 {
		opts = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, err
	}
	return New(conn), nil
}

// New wraps an existing connection (closing the Client closes it).
func New(conn *grpc.ClientConn) *Client {
	return &Client{conn: conn, Broker: pb.NewBrokerClient(conn), Admin: pb.NewAdminClient(conn)}
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Error is a failed call or a failed message, with its gRPC code.
type Error struct {
	Code    codes.Code
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Code returns the gRPC code of err (codes.OK for nil, codes.Unknown if it carries none).
func Code(err error) codes.Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return status.Code(err)
}

func asError(err error) error {
	if err == nil {
		return nil
	}
	if s, ok := status.FromError(err); ok {
		return &Error{Code: s.Code(), Message: s.Message()}
	}
	return err
}

func fromStatus(s *rpcstatus.Status) error {
	if s == nil {
		return nil
	}
	return &Error{Code: codes.Code(s.GetCode()), Message: s.GetMessage()}
}

// Result is the outcome of one published message: its id, or Err.
type Result struct {
	ID        string
	Duplicate bool
	Queues    []string
	Err       error
}

// Publish sends messages to queue (empty: routed by each message's topic) in one call.
// A failed call returns an error; a failed message only sets its Result's Err.
func (c *Client) Publish(ctx context.Context, queue string, msgs ...*pb.Message) ([]Result, error) {
	return c.Send(ctx, &pb.SendRequest{Queue: queue, Messages: msgs})
}

// Send is Publish with the whole request (wait_for, timeout).
func (c *Client) Send(ctx context.Context, req *pb.SendRequest) ([]Result, error) {
	resp, err := c.Broker.Send(ctx, req)
	if err != nil {
		return nil, asError(err)
	}
	out := make([]Result, len(resp.GetResults()))
	for i, r := range resp.GetResults() {
		out[i] = Result{ID: r.GetMessageId(), Duplicate: r.GetDuplicate(), Queues: r.GetQueues(), Err: fromStatus(r.GetError())}
	}
	return out, nil
}

// Handler handles one delivery: nil acks it, an error nacks it (redelivered with the queue's
// backoff), with the error's text as the nack reason (shown on the message's dead letter).
type Handler func(ctx context.Context, d *pb.Delivery) error

// MaxReasonChars caps a nack reason, in characters (runes): enough for an error's text
// without shipping a whole dump with every nack; the same cap as the other SDKs.
const MaxReasonChars = 1000

// NackReason is the reason Consume sends with the nack of a delivery whose handler returned
// err: err.Error() as valid UTF-8 (a proto string must be), cut to MaxReasonChars runes;
// "" (no reason) for nil.
func NackReason(err error) string {
	if err == nil {
		return ""
	}
	s := strings.ToValidUTF8(err.Error(), "\uFFFD")
	n := 0
	for i := range s { // i walks the starts of runes, so the cut never splits one
		if n == MaxReasonChars {
			return s[:i]
		}
		n++
	}
	return s
}

// ConsumeOptions name the subscription and its flow control; zero values take the server's
// defaults.
type ConsumeOptions struct {
	Queue                  string
	Subscription           string
	Filter                 string
	MaxOutstandingMessages uint32
	MaxOutstandingBytes    uint64
	Lease                  time.Duration
}

// drainTimeout bounds the wait for the server to end the stream after Consume half-closes it.
const drainTimeout = 5 * time.Second

// Consume runs handler over the subscription's deliveries on one StreamingReceive stream, one
// delivery at a time, with each frame's acks and nacks (each with its NackReason) sent
// together on the stream. It returns nil once ctx is done (after sending the acks so far and
// closing the stream; the server returns unhandled deliveries at once), or the stream's error.
func (c *Client) Consume(ctx context.Context, opts ConsumeOptions, handler Handler) error {
	streamCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := c.Broker.StreamingReceive(streamCtx)
	if err != nil {
		return asError(err)
	}
	first := &pb.StreamingReceiveRequest{
		Queue:                  opts.Queue,
		Subscription:           opts.Subscription,
		Filter:                 opts.Filter,
		MaxOutstandingMessages: opts.MaxOutstandingMessages,
		MaxOutstandingBytes:    opts.MaxOutstandingBytes,
	}
	if opts.Lease > 0 {
		first.Lease = durationpb.New(opts.Lease)
	}
	if err := stream.Send(first); err != nil {
		// io.EOF: the server ended the stream already; its status comes with Recv.
		if errors.Is(err, io.EOF) {
			if _, recvErr := stream.Recv(); recvErr != nil && !errors.Is(recvErr, io.EOF) {
				return asError(recvErr)
			}
		}
		return asError(err)
	}
	type received struct {
		resp *pb.StreamingReceiveResponse
		err  error
	}
	frames := make(chan received, 1)
	go func() {
		defer close(frames)
		for {
			resp, err := stream.Recv()
			select {
			case frames <- received{resp, err}:
			case <-streamCtx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	closeAndDrain := func() error {
		_ = stream.CloseSend()
		timer := time.NewTimer(drainTimeout)
		defer timer.Stop()
		for {
			select {
			case f, ok := <-frames:
				if !ok || f.err != nil {
					return nil
				}
			case <-timer.C:
				return nil
			}
		}
	}
	for {
		if ctx.Err() != nil {
			return closeAndDrain()
		}
		select {
		case <-ctx.Done():
			return closeAndDrain()
		case f := <-frames:
			if f.err != nil {
				if errors.Is(f.err, io.EOF) {
					return nil
				}
				return asError(f.err)
			}
			settle := &pb.StreamingReceiveRequest{}
			for _, d := range f.resp.GetDeliveries() {
				if ctx.Err() != nil {
					break // left unacked: the server returns them when the stream closes
				}
				if err := handler(ctx, d); err == nil {
					settle.AckIds = append(settle.AckIds, d.GetAckId())
				} else {
					settle.NackIds = append(settle.NackIds, d.GetAckId())
					settle.NackReasons = append(settle.NackReasons, NackReason(err))
				}
			}
			if len(settle.AckIds)+len(settle.NackIds) > 0 {
				if err := stream.Send(settle); err != nil {
					if errors.Is(err, io.EOF) { // the status comes with the reader's last Recv
						for f := range frames {
							if f.err != nil && !errors.Is(f.err, io.EOF) {
								return asError(f.err)
							}
						}
					}
					return asError(err)
				}
			}
		}
	}
}
