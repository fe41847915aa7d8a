package preflight

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/planrun/planrun/internal/redact"
)

// Explain turns a connection error into one line that names the target
// (host:port, user and database; never the password) and the likely cause
// with a hint:
//
//   - connection refused: is the server running, on that host and port?
//   - timeout: a firewall or security group dropping packets, a wrong host,
//     or a server too busy to answer within connect_timeout
//   - unknown host: the host name does not resolve
//   - authentication failed: user/password, or the pg_hba.conf method
//   - no pg_hba.conf entry, role or database does not exist, no CONNECT
//     privilege, too many connections, server starting up or shutting down
//   - TLS: the server refuses TLS (sslmode), or the certificate is not
//     trusted or does not match the host (sslrootcert, sslmode=verify-*)
//
// Anything else is shown as the driver's message, redacted. Explain returns
// "" for a nil error. The engine uses it for every connect failure.
func Explain(err error, connString string) string {
	if err == nil {
		return ""
	}
	password := ""
	target := "the target"
	if msg, ok := redact.ConfigError(err); ok {
		return oneLine(msg)
	}
	var cfg *pgconn.Config
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) && ce.Config != nil {
		cfg = ce.Config
	} else if parsed, perr := pgconn.ParseConfig(connString); perr == nil {
		cfg = parsed
	}
	if cfg != nil {
		password = cfg.Password
		target = describeTarget(cfg)
	}
	line := fmt.Sprintf("cannot connect to %s: %s", target, cause(err, cfg))
	return redact.Secret(line, password)
}

// describeTarget names every host:port the driver tries, with user and database.
func describeTarget(cfg *pgconn.Config) string {
	hosts := []string{hostPort(cfg.Host, cfg.Port)}
	for _, fb := range cfg.Fallbacks {
		hp := hostPort(fb.Host, fb.Port)
		if !contains(hosts, hp) {
			hosts = append(hosts, hp)
		}
	}
	return fmt.Sprintf("%s (user %q, database %q)", strings.Join(hosts, ", "), cfg.User, cfg.Database)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// SQLSTATEs a server sends while a connection is being opened.
const (
	sqlstateInvalidPassword      = "28P01"
	sqlstateInvalidAuthorization = "28000"
	sqlstateInvalidCatalogName   = "3D000"
	sqlstateInsufficientPriv     = "42501"
	sqlstateTooManyConnections   = "53300"
	sqlstateCannotConnectNow     = "57P03"
)

// cause names the most specific cause found in err. With sslmode=prefer,
// several hosts or a name with several addresses (localhost: ::1 and
// 127.0.0.1) the error joins every attempt, so what an attempt that reached
// a server said comes first: the server's error, then TLS certificate and
// handshake errors, and only then the transport errors (unknown host,
// refused, timeout, unreachable).
func cause(err error, cfg *pgconn.Config) string {
	user, db := "", ""
	if cfg != nil {
		user, db = cfg.User, cfg.Database
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case sqlstateInvalidPassword:
			return fmt.Sprintf("authentication failed for user %q (SQLSTATE %s): check the user name and password, and the pg_hba.conf method for this host", user, pgErr.Code)
		case sqlstateInvalidAuthorization:
			if strings.Contains(pgErr.Message, "pg_hba.conf") {
				return fmt.Sprintf("%s (SQLSTATE %s): add a pg_hba.conf line for this client address, user and database, or check sslmode", pgErr.Message, pgErr.Code)
			}
			return fmt.Sprintf("%s (SQLSTATE %s): check the user name; the role may not exist or may not have LOGIN", pgErr.Message, pgErr.Code)
		case sqlstateInvalidCatalogName:
			return fmt.Sprintf("database %q does not exist (SQLSTATE %s): check the database name in the URL, or create it", db, pgErr.Code)
		case sqlstateInsufficientPriv:
			return fmt.Sprintf("%s (SQLSTATE %s): GRANT CONNECT ON DATABASE to the user", pgErr.Message, pgErr.Code)
		case sqlstateTooManyConnections:
			return fmt.Sprintf("%s (SQLSTATE %s): the server's connection slots are all taken; see max_connections and pg_stat_activity", pgErr.Message, pgErr.Code)
		case sqlstateCannotConnectNow:
			return fmt.Sprintf("%s (SQLSTATE %s): the server is starting up, shutting down or in recovery; retry shortly", pgErr.Message, pgErr.Code)
		}
		return fmt.Sprintf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	}

	if strings.Contains(err.Error(), "server refused TLS connection") {
		return "the server does not accept TLS but sslmode requires it: enable ssl on the server, or use sslmode=prefer or disable"
	}
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr x509.CertificateInvalidError
	var certVerify *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &hostErr):
		return fmt.Sprintf("TLS: the server certificate does not match the host (%s): connect by the name in the certificate, or use sslmode=verify-ca", oneLine(hostErr.Error()))
	case errors.As(err, &unknownCA), errors.As(err, &certErr), errors.As(err, &certVerify):
		return "TLS: the server certificate is not trusted: set sslrootcert to the CA that signed it, or use sslmode=require to encrypt without verifying"
	case errors.As(err, &recordErr):
		return "TLS handshake failed: the server did not answer in TLS; check sslmode and that this is a PostgreSQL port"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Sprintf("unknown host %q (%s): check the host name in the URL and DNS", dnsErr.Name, dnsErr.Err)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "connection refused: is PostgreSQL running, and listening on that host and port (listen_addresses, port)?"
	}
	if pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) || isNetTimeout(err) {
		timeout := ""
		if cfg != nil && cfg.ConnectTimeout > 0 {
			timeout = " after " + cfg.ConnectTimeout.String()
		}
		return fmt.Sprintf("timed out%s (connect_timeout): a firewall or security group dropping packets, a wrong host, or a server too busy to answer", timeout)
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled before the connection was open"
	}
	if errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return "host or network unreachable: check the host name, routing and VPN"
	}
	if strings.Contains(err.Error(), "tls error") {
		return "TLS handshake failed (" + oneLine(innermost(err).Error()) + "): check sslmode, sslrootcert and the server's ssl settings"
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		return "the server closed the connection during startup: is this a PostgreSQL port (not a proxy or another service), and does sslmode match?"
	}
	return oneLine(innermost(err).Error())
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// innermost returns the most specific error below pgx's wrappers: the last
// attempt of a join, unwrapped until the first error that is not a plain wrapper.
func innermost(err error) error {
	for {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs := j.Unwrap()
			if len(errs) == 0 {
				return err
			}
			err = errs[len(errs)-1]
			continue
		}
		if ce, ok := err.(*pgconn.ConnectError); ok && ce.Unwrap() != nil {
			err = ce.Unwrap()
			continue
		}
		return err
	}
}

// oneLine folds a multi-line message into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
