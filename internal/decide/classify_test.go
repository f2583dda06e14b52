package decide

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
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
)

// response builds a response with a status and an optional sub-status.
func response(status, sub int) *http.Response {
	h := http.Header{}
	if sub != 0 {
		h.Set("x-ms-substatus", strconv.Itoa(sub))
	}
	return &http.Response{StatusCode: status, Header: h, Body: http.NoBody}
}

// timeoutError is a net.Error that timed out, like a read deadline.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

var _ net.Error = timeoutError{}

// first is what a fresh Call decides for the outcome: whether and where
// the first retry goes.
type first struct {
	retry bool
	route Route
}

func firstDecision(write bool, o Outcome, resp *http.Response) first {
	d := newCall(policy.RetryOptions{}, (&fakeClock{}).Now, fixedRand(0)).decide(write, o, resp)
	return first{d.Retry, d.Route}
}

var (
	noRetry   = first{}
	same      = first{true, sameEndpoint}
	next      = first{true, NextRegion}
	writeRgn  = first{true, WriteRegion}
	refreshed = first{true, Refresh}
)

func TestClassifyStatus(t *testing.T) {
	tests := []struct {
		status, sub int
		want        Outcome
		read, write first
	}{
		{200, 0, OK, noRetry, noRetry},
		{201, 0, OK, noRetry, noRetry},
		{204, 0, OK, noRetry, noRetry},
		{304, 0, OK, noRetry, noRetry},
		{400, 0, Final, noRetry, noRetry},
		{401, 0, Final, noRetry, noRetry},
		{403, 0, Final, noRetry, noRetry},
		{403, 5, Final, noRetry, noRetry},
		{404, 0, Final, noRetry, noRetry},
		{404, 3, Final, noRetry, noRetry},
		{405, 0, Final, noRetry, noRetry},
		{409, 0, Final, noRetry, noRetry},
		{412, 0, Final, noRetry, noRetry},
		{413, 0, Final, noRetry, noRetry},
		{302, 0, Final, noRetry, noRetry},
		{502, 0, Final, noRetry, noRetry},
		{429, 0, throttled, same, same},
		{449, 0, retryWith, same, same},
		{500, 0, serverError, next, noRetry},
		{503, 0, unavailable, next, next},
		{408, 0, requestTimeout, next, noRetry},
		{403, 3, WriteForbidden, noRetry, refreshed},
		{403, 1008, regionNotFound, refreshed, refreshed},
		{404, 1002, sessionNotAvailable, writeRgn, noRetry},
		{200, 3, OK, noRetry, noRetry}, // a sub-status only matters with its status
		{500, 1002, serverError, next, noRetry},
	}
	for _, tt := range tests {
		name := strconv.Itoa(tt.status)
		if tt.sub != 0 {
			name += "." + strconv.Itoa(tt.sub)
		}
		t.Run(name, func(t *testing.T) {
			resp := response(tt.status, tt.sub)
			got := classify(resp, nil)
			assert.Equal(t, tt.want, got, "outcome %s", got)
			assert.Equal(t, tt.read, firstDecision(false, got, resp), "read")
			assert.Equal(t, tt.write, firstDecision(true, got, resp), "write")
		})
	}
}

func TestClassifyError(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}
	tests := []struct {
		name        string
		err         error
		want        Outcome
		read, write first
	}{
		{"dial refused", refused, NeverSent, next, next},
		{"dial refused in url.Error", &url.Error{Op: "Get", URL: "https://a.example/", Err: refused}, NeverSent, next, next},
		{"dial timeout", &net.OpError{Op: "dial", Net: "tcp", Err: timeoutError{}}, NeverSent, next, next},
		{"bare ECONNREFUSED", fmt.Errorf("connect: %w", syscall.ECONNREFUSED), NeverSent, next, next},
		{"DNS", &net.DNSError{Err: "no such host", Name: "a.example", IsNotFound: true}, NeverSent, next, next},
		{"proxy connect", &net.OpError{Op: "proxyconnect", Net: "tcp", Err: io.EOF}, NeverSent, next, next},
		{"TLS record header (may come with the response)", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, Ambiguous, next, noRetry},
		{"TLS alert (may come with the response)", tls.AlertError(20), Ambiguous, next, noRetry},
		{"TLS verification", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, NeverSent, next, next},
		{"x509 hostname", x509.HostnameError{Host: "a.example"}, NeverSent, next, next},
		{"x509 invalid", x509.CertificateInvalidError{Reason: x509.Expired}, NeverSent, next, next},
		{"EOF", io.EOF, Ambiguous, next, noRetry},
		{"unexpected EOF", fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), Ambiguous, next, noRetry},
		{"reset", reset, Ambiguous, next, noRetry},
		{"bare ECONNRESET", syscall.ECONNRESET, Ambiguous, next, noRetry},
		{"broken pipe", &net.OpError{Op: "write", Net: "tcp", Err: syscall.EPIPE}, Ambiguous, next, noRetry},
		{"read timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}, Ambiguous, next, noRetry},
		{"deadline exceeded on conn", os.ErrDeadlineExceeded, Ambiguous, next, noRetry},
		{"unknown", errors.New("something else"), Ambiguous, next, noRetry},
		{"error text says refused", errors.New("dial tcp: connection refused"), Ambiguous, next, noRetry},
		{"canceled", context.Canceled, canceled, noRetry, noRetry},
		{"deadline", context.DeadlineExceeded, canceled, noRetry, noRetry},
		{"canceled in url.Error", &url.Error{Op: "Get", URL: "https://a.example/", Err: context.Canceled}, canceled, noRetry, noRetry},
		{"canceled while dialing", &net.OpError{Op: "dial", Net: "tcp", Err: context.Canceled}, canceled, noRetry, noRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(nil, tt.err)
			assert.Equal(t, tt.want, got, "outcome %s", got)
			assert.Equal(t, tt.read, firstDecision(false, got, nil), "read")
			assert.Equal(t, tt.write, firstDecision(true, got, nil), "write")
		})
	}
}

// phased is an attempt error that reports its phase, as the transport's do.
type phased struct {
	err   error
	phase Phase
}

func (e phased) Error() string       { return e.err.Error() }
func (e phased) Unwrap() error       { return e.err }
func (e phased) RequestPhase() Phase { return e.phase }

// TestClassifyByPhase: when the attempt reports how far it got on the
// connection, that decides, whatever the error's type.
func TestClassifyByPhase(t *testing.T) {
	record := tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	errs := map[string]error{
		"TLS record":  record,
		"reset":       reset,
		"EOF":         io.EOF,
		"timeout":     timeoutError{},
		"dial":        refused,
		"unknown":     errors.New("something"),
		"wrapped TLS": &url.Error{Op: "Post", URL: "https://a.example/", Err: record},
	}
	want := map[Phase]Outcome{
		PhaseLocal:      Final,
		PhaseConnecting: NeverSent,
		PhaseConnected:  NeverSent,
		PhaseWritten:    Ambiguous,
	}
	for name, err := range errs {
		for phase, outcome := range want {
			assert.Equal(t, outcome, classify(nil, phased{err, phase}), "%s in phase %d", name, phase)
			wrapped := fmt.Errorf("attempt: %w", phased{err, phase})
			assert.Equal(t, outcome, classify(nil, wrapped), "wrapped %s in phase %d", name, phase)
		}
		assert.Equal(t, classify(nil, err), classify(nil, phased{err, PhaseUnknown}),
			"%s: an unknown phase leaves it to the type", name)
	}
	// The caller's context ending wins over any phase.
	assert.Equal(t, canceled, classify(nil, phased{context.Canceled, PhaseWritten}))
	assert.Equal(t, canceled, classify(nil, phased{context.DeadlineExceeded, PhaseConnecting}))
}

func TestClassifyContractViolations(t *testing.T) {
	// Like http.Client, the error wins over a response returned with it.
	assert.Equal(t, canceled, classify(response(200, 0), context.Canceled))
	// Nothing at all: nobody knows whether the request ran.
	assert.Equal(t, Ambiguous, classify(nil, nil))
}

// TestClassifyRealErrors checks the error values net/http really returns,
// against servers on loopback.
func TestClassifyRealErrors(t *testing.T) {
	do := func(t *testing.T, rt http.RoundTripper, url string) Outcome {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader("{}"))
		require.NoError(t, err)
		resp, err := rt.RoundTrip(req)
		if resp != nil {
			resp.Body.Close()
		}
		require.Error(t, err)
		t.Logf("%T: %v", err, err)
		return classify(nil, err)
	}
	newTransport := func(t *testing.T) *http.Transport {
		tr := &http.Transport{DisableKeepAlives: true}
		t.Cleanup(tr.CloseIdleConnections)
		return tr
	}

	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		assert.Equal(t, NeverSent, do(t, newTransport(t), "http://"+addr+"/"))
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			t.Error("the request must not arrive")
		}))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake is expected
		srv.StartTLS()
		defer srv.Close()
		assert.Equal(t, NeverSent, do(t, newTransport(t), srv.URL))
	})

	t.Run("TLS to a plain server", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			t.Error("the request must not arrive")
		}))
		defer srv.Close()
		// A TLS record error alone does not say when it happened: without
		// the phase (the transport's attempt errors carry it), it is
		// ambiguous.
		assert.Equal(t, Ambiguous, do(t, newTransport(t), "https://"+srv.Listener.Addr().String()+"/"))
	})

	t.Run("connection closed after the request", func(t *testing.T) {
		got := make(chan struct{}, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			got <- struct{}{}
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}))
		defer srv.Close()
		assert.Equal(t, Ambiguous, do(t, newTransport(t), srv.URL))
		assert.Len(t, got, 1, "the request reached the server")
	})
}

func TestSubStatus(t *testing.T) {
	tests := []struct {
		value string
		want  int
	}{
		{"", 0},
		{"3", 3},
		{" 1008 ", 1008},
		{"1002", 1002},
		{"abc", 0},
		{"3.0", 0},
		{"-3", 0},
		{"99999999999999999999999", 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.value != "" {
			h.Set("X-Ms-Substatus", tt.value)
		}
		assert.Equal(t, tt.want, wire.SubStatus(h), "x-ms-substatus %q", tt.value)
	}
	assert.Equal(t, 0, wire.SubStatus(nil))
}

func TestOutcomeString(t *testing.T) {
	want := map[Outcome]string{
		OK: "ok", Final: "final", throttled: "throttled",
		retryWith: "retry_with", unavailable: "unavailable",
		serverError: "server_error", requestTimeout: "request_timeout",
		WriteForbidden: "write_forbidden", regionNotFound: "region_not_found",
		sessionNotAvailable: "session_not_available", NeverSent: "never_sent",
		Ambiguous: "ambiguous", canceled: "canceled", circuitOpen: "circuit_open",
	}
	for o, s := range want {
		assert.Equal(t, s, o.String())
	}
	assert.Equal(t, "unknown", Outcome(200).String())
}
