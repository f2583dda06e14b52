package instrument

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/cosmosrt/cosmosrt/internal/account"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ExportedTestError is a named exported error type, as a user's package
// might define; unexportedTestError is not exported.
type ExportedTestError struct{ Err error }

func (e *ExportedTestError) Error() string { return "exported test error" }
func (e *ExportedTestError) Unwrap() error { return e.Err }

type unexportedTestError struct{}

func (unexportedTestError) Error() string { return "unexported test error" }

// timeoutOnly is a net.Error that timed out, known by nothing else.
type timeoutOnly struct{}

func (timeoutOnly) Error() string   { return "i/o timeout" }
func (timeoutOnly) Timeout() bool   { return true }
func (timeoutOnly) Temporary() bool { return true }

func TestErrorTypeOf(t *testing.T) {
	urlErr := func(err error) error { return &url.Error{Op: "Get", URL: "https://a.example/", Err: err} }
	opErr := func(op string, err error) error { return &net.OpError{Op: op, Net: "tcp", Err: err} }
	sysErr := func(errno syscall.Errno) error { return os.NewSyscallError("connect", errno) }
	const thisPkg = "github.com/cosmosrt/cosmosrt/internal/instrument."
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"deadline", context.DeadlineExceeded, "timeout"},
		{"deadline wrapped", fmt.Errorf("transport: waiting: %w", context.DeadlineExceeded), "timeout"},
		{"deadline in a url.Error", urlErr(context.DeadlineExceeded), "timeout"},
		{"canceled", context.Canceled, "canceled"},
		{"canceled in a url.Error", urlErr(fmt.Errorf("x: %w", context.Canceled)), "canceled"},
		{"ErrorType method", fmt.Errorf("wrapped: %w", typedErr{}), "typed_failure"},

		{"eof", io.EOF, "eof"},
		{"eof wrapped", fmt.Errorf("reading: %w", io.EOF), "eof"},
		{"eof in a url.Error", urlErr(io.EOF), "eof"},
		{"unexpected eof", io.ErrUnexpectedEOF, "unexpected_eof"},
		{"unexpected eof in a url.Error", urlErr(fmt.Errorf("body: %w", io.ErrUnexpectedEOF)), "unexpected_eof"},

		{"connection refused", urlErr(opErr("dial", sysErr(syscall.ECONNREFUSED))), "connection_refused"},
		{"connection reset", opErr("read", sysErr(syscall.ECONNRESET)), "connection_reset"},
		{"connection aborted", opErr("read", syscall.ECONNABORTED), "connection_aborted"},
		{"broken pipe", opErr("write", sysErr(syscall.EPIPE)), "broken_pipe"},
		{"host unreachable", opErr("dial", sysErr(syscall.EHOSTUNREACH)), "host_unreachable"},
		{"network unreachable", opErr("dial", sysErr(syscall.ENETUNREACH)), "network_unreachable"},
		{"other errno", opErr("dial", sysErr(syscall.EACCES)), "dial_error"},

		{"read deadline", urlErr(opErr("read", os.ErrDeadlineExceeded)), "timeout"},
		{"dial timeout", opErr("dial", timeoutOnly{}), "timeout"},
		{"any net timeout", fmt.Errorf("x: %w", timeoutOnly{}), "timeout"},

		{"dns not found", urlErr(opErr("dial", &net.DNSError{Err: "no such host", Name: "a.example", IsNotFound: true})), "dns_not_found"},
		{"dns timeout", &net.DNSError{Err: "i/o timeout", Name: "a.example", IsTimeout: true}, "dns_timeout"},
		{"dns other", &net.DNSError{Err: "server misbehaving", Name: "a.example"}, "dns_error"},

		{"unknown authority", urlErr(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), "server_certificate_invalid"},
		{"hostname mismatch", x509.HostnameError{Host: "a.example", Certificate: &x509.Certificate{}}, "server_certificate_invalid"},
		{"expired", fmt.Errorf("tls: %w", x509.CertificateInvalidError{Reason: x509.Expired}), "server_certificate_invalid"},
		{"no system roots", x509.SystemRootsError{}, "server_certificate_invalid"},
		{"not tls", urlErr(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), "tls_handshake"},
		{"tls alert", tls.AlertError(40), "tls_handshake"},
		{"remote tls alert", opErr("remote error", errors.New("tls: handshake failure")), "tls_handshake"},

		{"closed", opErr("read", net.ErrClosed), "connection_closed"},
		{"dial other", opErr("dial", errors.New("x")), "dial_error"},
		{"read other", opErr("read", errors.New("x")), "read_error"},
		{"write other", urlErr(opErr("write", errors.New("x"))), "write_error"},
		{"proxy", opErr("proxyconnect", errors.New("x")), "proxy_connect_error"},
		{"other op", opErr("close", errors.New("x")), "network_error"},

		{"exported type", &ExportedTestError{}, thisPkg + "ExportedTestError"},
		{"exported type wrapped", urlErr(fmt.Errorf("x: %w", &ExportedTestError{Err: errors.New("cause")})), thisPkg + "ExportedTestError"},
		{"innermost exported type", &ExportedTestError{Err: fmt.Errorf("x: %w", &ExportedTestError{})}, thisPkg + "ExportedTestError"},
		{"exported type wrapping a well-known error", &ExportedTestError{Err: io.EOF}, "eof"},
		{"errno not listed", syscall.EACCES, "syscall.Errno"},

		{"errors.New", errors.New("boom"), "_OTHER"},
		{"fmt.Errorf without %w", fmt.Errorf("boom %d", 1), "_OTHER"},
		{"fmt.Errorf with %w", fmt.Errorf("a: %w", errors.New("boom")), "_OTHER"},
		{"url.Error of errors.New", urlErr(errors.New("boom")), "_OTHER"},
		{"unexported type", fmt.Errorf("a: %w", unexportedTestError{}), "_OTHER"},
		{"joined", errors.Join(errors.New("a"), errors.New("b")), "_OTHER"},
		{"nil", nil, "_OTHER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, errorTypeOf(tc.err).Value.AsString())
		})
	}
}

// TestErrorTypeOfRealFailures names the errors a real http.Client returns.
func TestErrorTypeOfRealFailures(t *testing.T) {
	get := func(t *testing.T, c *http.Client, u string) error {
		t.Helper()
		if c == nil {
			tr := http.DefaultTransport.(*http.Transport).Clone()
			t.Cleanup(tr.CloseIdleConnections)
			c = &http.Client{Transport: tr}
		}
		resp, err := c.Get(u)
		if resp != nil {
			resp.Body.Close()
		}
		require.Error(t, err)
		return err
	}

	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close()
		assert.Equal(t, "connection_refused", errorTypeOf(get(t, nil, "http://"+addr+"/")).Value.AsString())
	})
	t.Run("closed before answering", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}))
		defer srv.Close()
		assert.Equal(t, "eof", errorTypeOf(get(t, nil, srv.URL)).Value.AsString())
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure is expected
		srv.StartTLS()
		defer srv.Close()
		assert.Equal(t, "server_certificate_invalid", errorTypeOf(get(t, nil, srv.URL)).Value.AsString())
	})
	t.Run("not tls", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		u, err := url.Parse(srv.URL)
		require.NoError(t, err)
		u.Scheme = "https"
		assert.Equal(t, "tls_handshake", errorTypeOf(get(t, nil, u.String())).Value.AsString())

		// Below http.Client, where the chain runs, the error is the TLS one.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		defer tr.CloseIdleConnections()
		req, err := http.NewRequest(http.MethodGet, u.String(), nil)
		require.NoError(t, err)
		resp, err := tr.RoundTrip(req)
		if resp != nil {
			resp.Body.Close()
		}
		require.Error(t, err)
		assert.Equal(t, "tls_handshake", errorTypeOf(err).Value.AsString())
	})
}

func TestErrorTypeOfAFailedAccountLookUpIsItsStatus(t *testing.T) {
	err := fmt.Errorf("refreshing the account: %w", &account.StatusError{Code: 401})
	assert.Equal(t, "401", errorTypeName(err), "no internal package path reaches error.type")
}
