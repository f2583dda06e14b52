package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/policy"
)

// connFault is what a phaseServer does to one connection.
type connFault int

const (
	healthy            connFault = iota // answer 201 and close
	closeOnAccept                       // close before the TLS handshake
	plaintextHandshake                  // answer the ClientHello with plaintext HTTP
	stallHandshake                      // never answer the ClientHello
	closeAfterHeaders                   // read the request headers only, then close
	closeAfterRequest                   // read the whole request (it runs), then close
	plaintextAfter                      // read the whole request, then write plaintext HTTP under TLS (a broken middlebox)
	corruptRecordAfter                  // read the whole request, then write a TLS record with an impossible length
	partialResponse                     // read the whole request, then half a status line, then close
)

var connFaultNames = map[connFault]string{
	closeOnAccept: "close on accept", plaintextHandshake: "plaintext handshake", stallHandshake: "stalled handshake",
	closeAfterHeaders: "close after headers", closeAfterRequest: "close after request", plaintextAfter: "plaintext after request",
	corruptRecordAfter: "corrupt TLS record after request", partialResponse: "partial response",
}

// phaseServer is an HTTPS server on loopback that misbehaves at a chosen
// phase of a connection: the first connections get the scripted faults,
// later ones are healthy. A request "runs" when its whole body was read.
type phaseServer struct {
	ln   net.Listener
	cfg  *tls.Config
	pool *x509.CertPool

	mu     sync.Mutex // guards all below
	script []connFault
	conns  int
	runs   int
	stop   chan struct{}
	wg     sync.WaitGroup
}

func newPhaseServer(t *testing.T, script ...connFault) *phaseServer {
	t.Helper()
	cert := httptest.NewUnstartedServer(nil)
	cert.StartTLS() // only for its certificate
	cfg := cert.TLS.Clone()
	pool := x509.NewCertPool()
	pool.AddCert(cert.Certificate())
	cert.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &phaseServer{ln: ln, cfg: cfg, pool: pool, script: script, stop: make(chan struct{})}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.close)
	return s
}

func (s *phaseServer) url() string { return "https://" + s.ln.Addr().String() + "/dbs/d/colls/c/docs" }

// base returns a client transport for s. Its TLS handshake timeout ends a
// stalled handshake; a healthy handshake takes far less, even on a loaded
// machine under the race detector.
func (s *phaseServer) base() *http.Transport {
	return &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: s.pool},
		TLSHandshakeTimeout: time.Second,
		DisableKeepAlives:   true,
	}
}

func (s *phaseServer) counts() (conns, runs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns, s.runs
}

func (s *phaseServer) close() {
	close(s.stop)
	s.ln.Close()
	s.wg.Wait()
}

func (s *phaseServer) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		f := healthy
		if s.conns < len(s.script) {
			f = s.script[s.conns]
		}
		s.conns++
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			s.handle(conn, f)
		}()
	}
}

func (s *phaseServer) handle(raw net.Conn, f connFault) {
	raw.SetDeadline(time.Now().Add(5 * time.Second))
	switch f {
	case closeOnAccept:
		return
	case plaintextHandshake:
		io.WriteString(raw, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	case stallHandshake:
		<-s.stop // until the test ends: the client's handshake timeout ends it first
		return
	}
	conn := tls.Server(raw, s.cfg)
	if conn.Handshake() != nil {
		return
	}
	br := bufio.NewReader(conn)
	req, err := http.ReadRequest(br)
	if err != nil || f == closeAfterHeaders {
		return
	}
	if _, err := io.Copy(io.Discard, req.Body); err != nil {
		return
	}
	s.mu.Lock()
	s.runs++
	s.mu.Unlock()
	switch f {
	case closeAfterRequest:
	case plaintextAfter:
		io.WriteString(raw, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
	case corruptRecordAfter:
		raw.Write([]byte{0x17, 0x03, 0x03, 0xff, 0xff})
	case partialResponse:
		io.WriteString(conn, "HTTP/1.1 201 Cre")
	default:
		io.WriteString(conn, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
	}
}

// judge returns what the retry policy makes of an attempt that failed
// with err.
func judge(err error) decide.Outcome {
	return decide.New(policy.RetryOptions{}, nil, nil).Judge(nil, err)
}

// TestAttemptPhaseDecidesWhetherAWriteIsResent checks, for a fault at each
// phase of a connection, what the retry policy makes of the attempt and
// how often the server ran the write: a fault before the request's headers
// were written is resent and the write runs once; a fault after it was
// written is returned, and the write ran exactly once.
func TestAttemptPhaseDecidesWhetherAWriteIsResent(t *testing.T) {
	tests := []struct {
		fault  connFault
		want   decide.Outcome
		runs   int
		status int // 0: the call fails
	}{
		{closeOnAccept, decide.NeverSent, 1, http.StatusCreated},
		{plaintextHandshake, decide.NeverSent, 1, http.StatusCreated},
		{stallHandshake, decide.NeverSent, 1, http.StatusCreated},
		{closeAfterHeaders, decide.Ambiguous, 0, 0},
		{closeAfterRequest, decide.Ambiguous, 1, 0},
		{plaintextAfter, decide.Ambiguous, 1, 0},
		{corruptRecordAfter, decide.Ambiguous, 1, 0},
		{partialResponse, decide.Ambiguous, 1, 0},
	}
	for _, tt := range tests {
		t.Run(connFaultNames[tt.fault], func(t *testing.T) {
			// One attempt through the innermost stage: the outcome.
			s := newPhaseServer(t, tt.fault)
			base := s.base()
			defer base.CloseIdleConnections()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.url(), strings.NewReader(`{"id":"a"}`))
			require.NoError(t, err)
			resp, err := newPhases(base).RoundTrip(req)
			if resp != nil {
				resp.Body.Close()
			}
			require.Error(t, err)
			assert.Equal(t, tt.want, judge(err), "outcome of %v", err)

			// The whole chain: how often the write ran.
			s = newPhaseServer(t, tt.fault)
			base = s.base()
			defer base.CloseIdleConnections()
			rt, err := New(Options{Base: base, Retry: policy.RetryOptions{UnavailableInitial: time.Millisecond}})
			require.NoError(t, err)
			defer rt.Close()
			req, err = http.NewRequestWithContext(t.Context(), http.MethodPost, s.url(), strings.NewReader(`{"id":"a"}`))
			require.NoError(t, err)
			resp, err = rt.RoundTrip(req)
			if tt.status == 0 {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.status, resp.StatusCode)
				resp.Body.Close()
			}
			_, runs := s.counts()
			assert.Equal(t, tt.runs, runs, "times the server ran the write")
		})
	}
}

// TestAttemptPhaseOfARefusedConnection: nothing listens; the write is
// resent (never sent) and never runs.
func TestAttemptPhaseOfARefusedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	base := &http.Transport{DisableKeepAlives: true}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+"/", strings.NewReader("{}"))
	require.NoError(t, err)
	_, err = newPhases(base).RoundTrip(req)
	require.Error(t, err)
	assert.Equal(t, decide.NeverSent, judge(err))
	var ae *attemptError
	require.True(t, errors.As(err, &ae))
	assert.Equal(t, decide.PhaseConnecting, ae.RequestPhase())
}

// TestAttemptPhaseOfALocalRefusal: net/http refuses the request before
// seeking a connection; nothing can come of resending it.
func TestAttemptPhaseOfALocalRefusal(t *testing.T) {
	base := &http.Transport{}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "ftp://a.example/", nil)
	require.NoError(t, err)
	_, err = newPhases(base).RoundTrip(req)
	require.Error(t, err)
	assert.Equal(t, decide.Final, judge(err))
}

// A caller's own httptrace hooks run once per request of theirs: the
// pooled trace that tells the phase never keeps them for later requests.
func TestCallersTraceHooksAreNotKeptByThePhaseStage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	base := http.DefaultTransport.(*http.Transport).Clone()
	defer base.CloseIdleConnections()
	rt := newPhases(base)
	var calls atomic.Int64
	for range 20 {
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) { calls.Add(1) },
		})
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		resp, err := rt.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	assert.Equal(t, int64(20), calls.Load(), "each request's hook, once")
}
