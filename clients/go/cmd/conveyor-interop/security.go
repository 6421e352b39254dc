package main

import (
	"context"
	"os"
	"time"

	"github.com/conveyor-broker/conveyor/clients/go/conveyor"
	pb "github.com/conveyor-broker/conveyor/generated/go/conveyor/v1"
)

// security runs against a server with TLS, mTLS and an auth file; the CA, client certificate,
// key and a token granted on PREFIX* come from the CONVEYOR_CLIENT_TLS_* and CONVEYOR_TOKEN
// variables, as a user would set them.
func security(target, p string) map[string]facts {
	env := conveyor.SecurityFromEnv()
	pemBytes := conveyor.Security{
		TLSCAPEM:   must(os.ReadFile(env.TLSCA)),
		TLSCertPEM: must(os.ReadFile(env.TLSCert)),
		TLSKeyPEM:  must(os.ReadFile(env.TLSKey)),
		Token:      env.Token,
	}
	wrongToken, noToken, noCert := env, env, env
	wrongToken.Token = "not-" + env.Token
	noToken.Token = ""
	noCert.TLSCert, noCert.TLSKey = "", ""
	return map[string]facts{
		"round_trip":  secureRoundTrip(target, env, p+"-sec"),
		"pem_bytes":   secureRoundTrip(target, pemBytes, p+"-pem"),
		"wrong_token": {"code": publishCode(target, wrongToken, p+"-sec")},
		"no_token":    {"code": publishCode(target, noToken, p+"-sec")},
		"no_cert":     {"code": publishCode(target, noCert, p+"-sec")},
	}
}

// secureRoundTrip creates queue, publishes one message and receives it on a StreamingReceive
// stream, so the token is seen on unary calls and on a stream.
func secureRoundTrip(target string, s conveyor.Security, q string) facts {
	c := must(conveyor.DialSecure(target, s))
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Admin.CreateQueue(ctx, &pb.CreateQueueRequest{Queue: &pb.Queue{Name: q}}); err != nil {
		return facts{"error": errString(err), "code": uint32(conveyor.Code(err))}
	}
	results, err := c.Publish(ctx, q, &pb.Message{Payload: []byte("secret cargo")})
	if err != nil {
		return facts{"error": errString(err), "code": uint32(conveyor.Code(err))}
	}
	received := []string{}
	consumeCtx, stop := context.WithCancel(ctx)
	defer stop()
	err = c.Consume(consumeCtx, conveyor.ConsumeOptions{Queue: q, Subscription: "s"}, func(_ context.Context, d *pb.Delivery) error {
		received = append(received, string(d.GetMessage().GetPayload()))
		stop()
		return nil
	})
	return facts{"error": errString(err), "queue": q, "id": results[0].ID, "received": received}
}

func publishCode(target string, s conveyor.Security, q string) uint32 {
	c := must(conveyor.DialSecure(target, s))
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.Publish(ctx, q, &pb.Message{Payload: []byte("refused")})
	return uint32(conveyor.Code(err))
}
