package conveyor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// Security is what a connection needs to reach a server with TLS, mutual TLS or token auth,
// the same settings as the Python SDK's tls_ca, tls_cert, tls_key and token. Each PEM can be
// given as a file path (TLSCA, TLSCert, TLSKey) or as the PEM bytes themselves (the ...PEM
// fields, which win when both are set). The zero value is a plaintext connection without a
// token.
type Security struct {
	// TLSCA is the CA to trust; without it (and with a client certificate) the system's roots.
	TLSCA, TLSCert, TLSKey          string
	TLSCAPEM, TLSCertPEM, TLSKeyPEM []byte
	// Token is sent as "authorization: Bearer TOKEN" metadata on every call, streams included.
	Token string
}

// SecurityFromEnv reads the variables the conveyor CLI reads: CONVEYOR_CLIENT_TLS_CA,
// CONVEYOR_CLIENT_TLS_CERT and CONVEYOR_CLIENT_TLS_KEY (file paths) and CONVEYOR_TOKEN.
func SecurityFromEnv() Security {
	return Security{
		TLSCA:   os.Getenv("CONVEYOR_CLIENT_TLS_CA"),
		TLSCert: os.Getenv("CONVEYOR_CLIENT_TLS_CERT"),
		TLSKey:  os.Getenv("CONVEYOR_CLIENT_TLS_KEY"),
		Token:   os.Getenv("CONVEYOR_TOKEN"),
	}
}

func pem(bytes []byte, path, what string) ([]byte, error) {
	if bytes != nil || path == "" {
		return bytes, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("conveyor: reading %s: %w", what, err)
	}
	return b, nil
}

// TLSConfig returns the client's TLS configuration, or nil when Security asks for none.
func (s Security) TLSConfig() (*tls.Config, error) {
	ca, err := pem(s.TLSCAPEM, s.TLSCA, "tls CA")
	if err != nil {
		return nil, err
	}
	cert, err := pem(s.TLSCertPEM, s.TLSCert, "tls cert")
	if err != nil {
		return nil, err
	}
	key, err := pem(s.TLSKeyPEM, s.TLSKey, "tls key")
	if err != nil {
		return nil, err
	}
	if (cert == nil) != (key == nil) {
		return nil, errors.New("conveyor: tls cert and tls key go together (a client certificate and its key)")
	}
	if ca == nil && cert == nil {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != nil {
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(ca) {
			return nil, errors.New("conveyor: tls CA holds no PEM certificate")
		}
	}
	if cert != nil {
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("conveyor: tls cert and key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// DialOptions returns the transport credentials (TLS, or plaintext) and the per-call token
// credentials Security describes.
func (s Security) DialOptions() ([]grpc.DialOption, error) {
	cfg, err := s.TLSConfig()
	if err != nil {
		return nil, err
	}
	transport := insecure.NewCredentials()
	if cfg != nil {
		transport = credentials.NewTLS(cfg)
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(transport)}
	if s.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{token: s.Token, tls: cfg != nil}))
	}
	return opts, nil
}

// DialSecure connects to target with Security's settings; opts are added after them.
func DialSecure(target string, s Security, opts ...grpc.DialOption) (*Client, error) {
	secOpts, err := s.DialOptions()
	if err != nil {
		return nil, err
	}
	return Dial(target, append(secOpts, opts...)...)
}

// bearer puts the token on every call. Over TLS it refuses to travel in the clear (should
// the connection's credentials be swapped); a token on a plaintext connection is the caller's
// choice (e.g. inside a pod network), as in the Python SDK.
type bearer struct {
	token string
	tls   bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearer) RequireTransportSecurity() bool { return b.tls }
