package preflight_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/preflight"
	"github.com/planrun/planrun/results"
)

// enableTLS gives the server a self-signed certificate for 127.0.0.1 (not
// for localhost), turns ssl on and returns the certificate's path for
// sslrootcert.
func enableTLS(t *testing.T, dataDir, dsn string) (rootCert string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "planrun-test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// The server runs as the data directory's owner and wants its key private.
	st, err := os.Stat(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	for name, block := range map[string]*pem.Block{
		"server.crt": {Type: "CERTIFICATE", Bytes: der},
		"server.key": {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		path := filepath.Join(dataDir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(path, int(sys.Uid), int(sys.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	rootCert = filepath.Join(t.TempDir(), "root.crt")
	if err := os.WriteFile(rootCert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{"ALTER SYSTEM SET ssl = on", "SELECT pg_reload_conf()"} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// The reload is asynchronous: wait until a TLS connection works.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := pgx.Connect(ctx, strings.Replace(dsn, "sslmode=disable", "sslmode=require", 1))
		if err == nil {
			_ = c.Close(ctx)
			return rootCert
		}
		if time.Now().After(deadline) {
			t.Fatalf("ssl not on after reload: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTLS(t *testing.T) {
	s := startServer(t, 20)
	rootCert := enableTLS(t, s.DataDir(), s.DSN())
	byIP := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=", s.Port())
	byName := fmt.Sprintf("postgres://postgres@localhost:%d/postgres?sslmode=", s.Port())

	tests := []struct {
		name      string
		dsn       string
		wantTLS   bool
		wantFail  string // a failed reachability reason contains this
		wantCheck string // else the server check's reason contains this
	}{
		{name: "disable", dsn: byIP + "disable", wantCheck: "TLS off"},
		{name: "require", dsn: byIP + "require", wantTLS: true, wantCheck: "TLS on (TLS 1.3)"},
		{name: "prefer", dsn: byIP + "prefer", wantTLS: true, wantCheck: "TLS on"},
		{name: "verify-full with the root certificate", dsn: byIP + "verify-full&sslrootcert=" + rootCert, wantTLS: true, wantCheck: "TLS on"},
		{name: "verify-full with an untrusted certificate", dsn: byIP + "verify-full", wantFail: "certificate is not trusted"},
		{name: "verify-full by a name not in the certificate", dsn: byName + "verify-full&sslrootcert=" + rootCert, wantFail: "does not match the host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := roomyPool()
			pool.ConnectTimeout = 5 * time.Second
			res := preflight.Run(context.Background(), preflight.Config{ConnString: tt.dsn, Pool: pool, Pings: 3})
			if tt.wantFail != "" {
				c, failed := res.Failed()
				t.Logf("%s", c.Reason)
				if !failed || c.Name != "reachability" || !strings.Contains(c.Reason, tt.wantFail) {
					t.Errorf("Failed() = %+v, %t; want reachability failing with %q", c, failed, tt.wantFail)
				}
				return
			}
			if c, failed := res.Failed(); failed {
				t.Fatalf("%s failed: %s", c.Name, c.Reason)
			}
			if res.TLS != tt.wantTLS {
				t.Errorf("TLS = %t, want %t", res.TLS, tt.wantTLS)
			}
			c, _ := res.Check("server")
			if c.Status != results.CheckPass || !strings.Contains(c.Reason, tt.wantCheck) {
				t.Errorf("server check = %+v, want pass with %q", c, tt.wantCheck)
			}
		})
	}
}

func TestTimeoutsFromServer(t *testing.T) {
	dsn := testDSN(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	tests := []struct {
		name    string
		options string // URL-encoded options= value; "" for none
		status  results.CheckStatus
		reason  string
	}{
		{"server defaults", "", results.CheckWarn, "statement_timeout 0 (off)"},
		{"statement timeout under pool timeout", "-c%20statement_timeout%3D5s%20-c%20idle_in_transaction_session_timeout%3D1min", results.CheckPass,
			"statement_timeout 5s, idle_in_transaction_session_timeout 1m0s"},
		{"statement timeout over pool timeout", "-c%20statement_timeout%3D60s", results.CheckWarn, "statement_timeout 1m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := dsn
			if tt.options != "" {
				conn += sep + "options=" + tt.options
			}
			res := preflight.Run(context.Background(), preflight.Config{ConnString: conn, Pool: roomyPool(), Pings: 1})
			c, ok := res.Check("timeouts")
			if !ok {
				t.Fatalf("no timeouts check: %+v", res.Checks)
			}
			if c.Status != tt.status || !strings.Contains(c.Reason, tt.reason) {
				t.Errorf("timeouts = %+v, want %s with %q", c, tt.status, tt.reason)
			}
		})
	}
}
