// Command conveyor-interop runs the interop scenarios of tests/interop against a server and
// prints what it observed as one JSON object (scenario -> facts); the Python test asserts on
// the facts and cross-checks them with the server. Usage: conveyor-interop TARGET PREFIX, or
// conveyor-interop security TARGET PREFIX for the TLS and token scenarios (security.go).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/conveyor-broker/conveyor/clients/go/conveyor"
	pb "github.com/conveyor-broker/conveyor/generated/go/conveyor/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

type facts = map[string]any

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func main() {
	if len(os.Args) == 4 && os.Args[1] == "security" {
		must(0, json.NewEncoder(os.Stdout).Encode(security(os.Args[2], os.Args[3])))
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: conveyor-interop [security] TARGET PREFIX")
		os.Exit(2)
	}
	c := must(conveyor.Dial(os.Args[1]))
	defer c.Close()
	p := os.Args[2]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := map[string]facts{
		"round_trip":     roundTrip(ctx, c, p+"-rt"),
		"routing":        routing(ctx, c, p),
		"broadcast":      broadcast(ctx, c, p+"-bc"),
		"quorum":         quorum(ctx, c, p+"-qu"),
		"nack_redeliver": nackRedeliver(ctx, c, p+"-nk"),
		"nack_reason":    nackReason(ctx, c, p+"-nr"),
		"flow_control":   flowControl(ctx, c, p+"-fc"),
		"stale_ack":      staleAck(ctx, c, p+"-st"),
	}
	must(0, json.NewEncoder(os.Stdout).Encode(out))
}

func createQueue(ctx context.Context, c *conveyor.Client, name string) {
	must(c.Admin.CreateQueue(ctx, &pb.CreateQueueRequest{Queue: &pb.Queue{Name: name}}))
}

func publish(ctx context.Context, c *conveyor.Client, queue string, payloads ...string) []string {
	msgs := make([]*pb.Message, len(payloads))
	for i, s := range payloads {
		msgs[i] = &pb.Message{Payload: []byte(s)}
	}
	ids := []string{}
	for _, r := range must(c.Publish(ctx, queue, msgs...)) {
		if r.Err != nil {
			panic(r.Err)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

func pull(ctx context.Context, c *conveyor.Client, queue, sub string, n uint32) []*pb.Delivery {
	resp := must(c.Broker.Pull(ctx, &pb.PullRequest{Queue: queue, Subscription: sub, MaxMessages: n, Wait: durationpb.New(5 * time.Second)}))
	return resp.GetDeliveries()
}

func ack(ctx context.Context, c *conveyor.Client, ids ...string) []string {
	return append([]string{}, must(c.Broker.Ack(ctx, &pb.AckRequest{AckIds: ids})).GetFailedAckIds()...)
}

func roundTrip(ctx context.Context, c *conveyor.Client, q string) facts {
	createQueue(ctx, c, q)
	ids := publish(ctx, c, q, "a", "b", "c")
	received, payloads := []string{}, []string{}
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	err := c.Consume(cctx, conveyor.ConsumeOptions{Queue: q, Subscription: "s"}, func(_ context.Context, d *pb.Delivery) error {
		received = append(received, d.GetMessage().GetId())
		payloads = append(payloads, string(d.GetMessage().GetPayload()))
		if len(received) == len(ids) {
			stop()
		}
		return nil
	})
	sort.Strings(payloads)
	return facts{"queue": q, "published": ids, "received": received, "payloads": payloads, "error": errString(err)}
}

func routing(ctx context.Context, c *conveyor.Client, p string) facts {
	eu, created := p+"-eu", p+"-created"
	createQueue(ctx, c, eu)
	createQueue(ctx, c, created)
	must(c.Admin.CreateBinding(ctx, &pb.CreateBindingRequest{Pattern: p + ".eu.#", Queue: eu}))
	must(c.Admin.CreateBinding(ctx, &pb.CreateBindingRequest{Pattern: p + ".*.created", Queue: created}))
	results := must(c.Publish(ctx, "",
		&pb.Message{Topic: p + ".eu.created", Payload: []byte("eu-created")},
		&pb.Message{Topic: p + ".us.created", Payload: []byte("us-created")},
		&pb.Message{Topic: p + ".eu.deleted", Payload: []byte("eu-deleted")},
		&pb.Message{Topic: p + ".us.deleted", Payload: []byte("nowhere")},
	))
	stored := [][]string{}
	for _, r := range results[:3] {
		qs := append([]string{}, r.Queues...)
		sort.Strings(qs)
		stored = append(stored, qs)
	}
	got := map[string][]string{}
	for _, q := range []string{eu, created} {
		for _, d := range pull(ctx, c, q, "s", 10) {
			got[q] = append(got[q], string(d.GetMessage().GetPayload()))
		}
		sort.Strings(got[q])
	}
	return facts{"eu": eu, "created": created, "stored_in": stored, "pulled": got, "unrouted_code": int(conveyor.Code(results[3].Err))}
}

func broadcast(ctx context.Context, c *conveyor.Client, q string) facts {
	createQueue(ctx, c, q)
	for _, s := range []string{"s1", "s2"} {
		must(c.Broker.Pull(ctx, &pb.PullRequest{Queue: q, Subscription: s})) // creates it
	}
	results := must(c.Publish(ctx, q, &pb.Message{Payload: []byte("to all"), Guarantee: pb.Guarantee_GUARANTEE_BROADCAST}))
	got := map[string]string{}
	for _, s := range []string{"s1", "s2"} {
		d := pull(ctx, c, q, s, 10)
		got[s] = string(d[0].GetMessage().GetPayload())
		ack(ctx, c, d[0].GetAckId())
	}
	st := must(c.Broker.GetMessageStatus(ctx, &pb.GetMessageStatusRequest{Queue: q, MessageId: results[0].ID}))
	ackedBy := append([]string{}, st.GetAckedBy()...)
	sort.Strings(ackedBy)
	return facts{"queue": q, "id": results[0].ID, "received": got, "acked_by": ackedBy, "state": st.GetState().String()}
}

func quorum(ctx context.Context, c *conveyor.Client, q string) facts {
	createQueue(ctx, c, q)
	subs := []string{"s1", "s2", "s3"}
	for _, s := range subs {
		must(c.Broker.Pull(ctx, &pb.PullRequest{Queue: q, Subscription: s}))
	}
	msg := &pb.Message{Payload: []byte("two of three"), Guarantee: pb.Guarantee_GUARANTEE_QUORUM, RequiredAcks: 2}
	var started atomic.Int32 // acks begun; Send may only return after the second is processed
	type sent struct {
		results []conveyor.Result
		acksAt  int32
	}
	done := make(chan sent, 1)
	go func() {
		r, err := c.Send(ctx, &pb.SendRequest{Queue: q, Messages: []*pb.Message{msg}, WaitFor: pb.WaitFor_WAIT_FOR_DELIVERED, Timeout: durationpb.New(20 * time.Second)})
		if err != nil {
			panic(err)
		}
		done <- sent{r, started.Load()}
	}()
	for _, s := range subs[:2] {
		d := pull(ctx, c, q, s, 10)
		started.Add(1)
		ack(ctx, c, d[0].GetAckId())
	}
	res := <-done
	tooMany := must(c.Publish(ctx, q, &pb.Message{Payload: []byte("x"), Guarantee: pb.Guarantee_GUARANTEE_QUORUM, RequiredAcks: 4}))
	st := must(c.Broker.GetMessageStatus(ctx, &pb.GetMessageStatusRequest{Queue: q, MessageId: res.results[0].ID}))
	return facts{"queue": q, "id": res.results[0].ID, "acks_started_before_send_returned": res.acksAt, "state": st.GetState().String(), "too_many_code": int(conveyor.Code(tooMany[0].Err))}
}

func nackRedeliver(ctx context.Context, c *conveyor.Client, q string) facts {
	createQueue(ctx, c, q)
	ids := publish(ctx, c, q, "retry me")
	attempts := []uint32{}
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	err := c.Consume(cctx, conveyor.ConsumeOptions{Queue: q, Subscription: "s"}, func(_ context.Context, d *pb.Delivery) error {
		attempts = append(attempts, d.GetAttempt())
		if d.GetAttempt() == 1 {
			return fmt.Errorf("not yet")
		}
		stop()
		return nil
	})
	return facts{"queue": q, "id": ids[0], "attempts": attempts, "error": errString(err)}
}

// nackReason fails every delivery of two messages on a queue with max_deliveries 2, so both
// are dead-lettered with the handler's last error as their last nack reason: a short one and
// one longer than the SDK's cap, in 1- to 4-byte characters.
func nackReason(ctx context.Context, c *conveyor.Client, q string) facts {
	dlq := q + "-dlq"
	createQueue(ctx, c, dlq)
	must(c.Admin.CreateQueue(ctx, &pb.CreateQueueRequest{Queue: &pb.Queue{
		Name: q, MaxDeliveries: 2, DeadLetterQueue: dlq,
		RetryBackoff: &pb.RetryBackoff{Initial: durationpb.New(10 * time.Millisecond)},
	}}))
	ids := publish(ctx, c, q, "short", "long")
	errs := map[string]string{} // message id -> the last error its handler returned
	calls := 0
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	err := c.Consume(cctx, conveyor.ConsumeOptions{Queue: q, Subscription: "s"}, func(_ context.Context, d *pb.Delivery) error {
		text := fmt.Sprintf("handler failed on attempt %d: naïve ✓", d.GetAttempt())
		if string(d.GetMessage().GetPayload()) == "long" {
			text = fmt.Sprintf("attempt %d ", d.GetAttempt()) + strings.Repeat("é✓💥", 500)
		}
		errs[d.GetMessage().GetId()] = text
		if calls++; calls == 4 { // both messages' second and last attempt
			stop()
		}
		return errors.New(text)
	})
	return facts{"queue": q, "dlq": dlq, "ids": ids, "errors": errs, "calls": calls, "error": errString(err)}
}

func flowControl(ctx context.Context, c *conveyor.Client, q string) facts {
	createQueue(ctx, c, q)
	publish(ctx, c, q, "1", "2", "3", "4", "5")
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream := must(c.Broker.StreamingReceive(sctx))
	must(0, stream.Send(&pb.StreamingReceiveRequest{Queue: q, Subscription: "s", MaxOutstandingMessages: 2}))
	window := []*pb.Delivery{}
	for len(window) < 2 {
		window = append(window, must(stream.Recv()).GetDeliveries()...)
	}
	stats := must(c.Admin.GetQueueStats(ctx, &pb.GetQueueStatsRequest{Queue: q}))
	ids := []string{}
	for _, d := range window {
		ids = append(ids, d.GetAckId())
	}
	must(0, stream.Send(&pb.StreamingReceiveRequest{AckIds: ids}))
	total := len(window)
	for total < 5 {
		resp := must(stream.Recv())
		more := []string{}
		for _, d := range resp.GetDeliveries() {
			more = append(more, d.GetAckId())
		}
		total += len(more)
		if len(more) > 0 {
			must(0, stream.Send(&pb.StreamingReceiveRequest{AckIds: more}))
		}
	}
	must(0, stream.CloseSend())
	return facts{"queue": q, "first_window": len(window), "in_flight_at_window": stats.GetInFlight(), "ready_at_window": stats.GetReady(), "total": total}
}

func staleAck(ctx context.Context, c *conveyor.Client, q string) facts {
	createQueue(ctx, c, q)
	publish(ctx, c, q, "late")
	first := pull(ctx, c, q, "s", 1)[0]
	// A zero lease ends the first delivery's lease now; the message is handed out again.
	must(c.Broker.ModifyLease(ctx, &pb.ModifyLeaseRequest{AckIds: []string{first.GetAckId()}, Lease: durationpb.New(0)}))
	second := pull(ctx, c, q, "s", 1)[0]
	return facts{
		"queue":      q,
		"stale":      first.GetAckId(),
		"attempts":   []uint32{first.GetAttempt(), second.GetAttempt()},
		"failed_old": ack(ctx, c, first.GetAckId()),
		"failed_new": ack(ctx, c, second.GetAckId()),
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
