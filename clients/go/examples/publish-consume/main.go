// Example: publish three messages to a queue and consume them with a handler.
// go run ./examples/publish-consume -target 127.0.0.1:50051 -queue orders
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/conveyor-broker/conveyor/clients/go/conveyor"
	pb "github.com/conveyor-broker/conveyor/generated/go/conveyor/v1"
)

func main() {
	target := flag.String("target", "127.0.0.1:50051", "server address")
	queue := flag.String("queue", "orders", "queue (must exist)")
	flag.Parse()
	c, err := conveyor.Dial(*target)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	results, err := c.Publish(ctx, *queue, &pb.Message{Payload: []byte("one")}, &pb.Message{Payload: []byte("two")}, &pb.Message{Payload: []byte("three")})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		fmt.Println("published", r.ID, r.Err)
	}
	handled := 0
	err = c.Consume(ctx, conveyor.ConsumeOptions{Queue: *queue, Subscription: "example"}, func(_ context.Context, d *pb.Delivery) error {
		fmt.Println("handled", d.GetMessage().GetId(), string(d.GetMessage().GetPayload()))
		if handled++; handled == len(results) {
			cancel()
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
}
