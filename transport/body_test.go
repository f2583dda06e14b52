package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/policy"
)

// slowUplink answers 429 at once, as a server may before it has read the
// request, while it goes on reading the body in the background and closes
// it only when done, as net/http's transport does. The last attempt gets 201.
type slowUplink struct {
	mu      sync.Mutex // guards all below
	reading int        // bodies being read now
	overlap bool       // two bodies were read at once
	got     []string
	n       int
	wg      sync.WaitGroup
}

func (s *slowUplink) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.n++
	last := s.n == 3
	s.reading++
	if s.reading > 1 {
		s.overlap = true
	}
	s.mu.Unlock()
	s.wg.Go(func() {
		var b bytes.Buffer
		chunk := make([]byte, 100)
		for {
			time.Sleep(time.Millisecond)
			n, err := req.Body.Read(chunk)
			b.Write(chunk[:n])
			if err != nil {
				break
			}
		}
		s.mu.Lock()
		s.reading--
		s.got = append(s.got, b.String())
		s.mu.Unlock()
		req.Body.Close()
	})
	if last {
		s.wg.Wait()
		return &http.Response{StatusCode: 201, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
	}
	return &http.Response{StatusCode: 429, Body: http.NoBody, Request: req,
		Header: http.Header{"X-Ms-Retry-After-Ms": {"1"}}}, nil
}

// rewinder is a body whose GetBody rewinds and returns the same reader, as
// some SDKs' requests do.
type rewinder struct{ *strings.Reader }

func (rewinder) Close() error { return nil }

func TestRetryTakesASharedBodyOnlyAfterTheLastAttemptReleasedIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		payload := strings.Repeat("x", 5000)
		body := rewinder{strings.NewReader(payload)}
		req, err := http.NewRequest(http.MethodPost, docsURL, body)
		require.NoError(t, err)
		req.GetBody = func() (io.ReadCloser, error) {
			_, err := body.Seek(0, io.SeekStart)
			return body, err
		}
		up := &slowUplink{}
		resp, err := NewRetry(up, policy.RetryOptions{}).RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 201, resp.StatusCode)

		up.mu.Lock()
		defer up.mu.Unlock()
		assert.False(t, up.overlap, "no attempt read the body while another still did")
		require.Len(t, up.got, 3)
		for i, g := range up.got {
			assert.Equal(t, payload, g, "attempt %d sent the whole body", i)
		}
	})
}

// sourceBody is a caller's request body: data up to failAt, then failErr
// (io.EOF when nil or failAt ≥ len(data)). It records whether it was closed.
type sourceBody struct {
	mu      sync.Mutex // guards all below
	data    []byte
	failAt  int
	failErr error
	off     int
	closed  bool
}

func newSource(data []byte, failAt int, failErr error) *sourceBody {
	if failErr == nil || failAt > len(data) {
		failAt, failErr = len(data), io.EOF
	}
	return &sourceBody{data: data, failAt: failAt, failErr: failErr}
}

func (s *sourceBody) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.off >= s.failAt {
		return 0, s.failErr
	}
	n := copy(p, s.data[s.off:s.failAt])
	s.off += n
	return n, nil
}

func (s *sourceBody) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func (s *sourceBody) wasClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// received is what a loopback server read of one request body.
type received struct {
	length   int64 // Content-Length as announced
	got      int
	complete bool // the whole announced body arrived
}

// recordingServer answers 201 to every request whose body it read whole,
// and records what it read.
func recordingServer(t *testing.T) (*httptest.Server, func() []received) {
	t.Helper()
	var mu sync.Mutex
	var seen []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		rec := received{length: r.ContentLength, got: len(b), complete: err == nil}
		mu.Lock()
		seen = append(seen, rec)
		mu.Unlock()
		if err != nil {
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	return srv, func() []received {
		srv.Close() // waits for the handlers
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
}

var errSourceBroke = errors.New("source broke")

// A body whose reader fails, or whose length differs from its
// ContentLength, is never sent as complete: the call fails with the
// reader's error or one saying the lengths differ, and the caller's body
// is closed.
func TestTruncatedOrOverlongRequestBodyIsAnErrorNotARequest(t *testing.T) {
	const big = 256 << 10 // past any socket buffer: net/http writes it through
	for _, tc := range []struct {
		name    string
		length  int64
		body    *sourceBody
		max     int64 // MaxBufferedBody
		wantIs  error
		wantMsg string
	}{
		{name: "reader fails after 12 of 27 bytes", length: 27,
			body: newSource(bytes.Repeat([]byte("a"), 27), 12, io.ErrUnexpectedEOF), wantIs: io.ErrUnexpectedEOF,
			wantMsg: "transport: reading request body: unexpected EOF"},
		{name: "body ends after 12 of 27 bytes", length: 27,
			body: newSource(bytes.Repeat([]byte("a"), 12), 0, nil), wantMsg: "transport: reading request body: ContentLength=27 with Body length 12"},
		{name: "body longer than its ContentLength", length: 10,
			body: newSource(bytes.Repeat([]byte("a"), 15), 0, nil), wantMsg: "transport: reading request body: ContentLength=10 with Body length 15"},
		{name: "unbuffered body longer than its ContentLength", length: big, max: -1,
			body: newSource(bytes.Repeat([]byte("a"), big+1), 0, nil), wantMsg: "ContentLength=262144 with Body length over 262144"},
		{name: "unbuffered body whose reader fails after the announced length", length: big, max: -1,
			body: newSource(bytes.Repeat([]byte("a"), big), big, errSourceBroke), wantIs: errSourceBroke},
		{name: "unbuffered body ends early", length: big, max: -1,
			body: newSource(bytes.Repeat([]byte("a"), big-1), 0, nil), wantMsg: "ContentLength=262144 with Body length 262143"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, seen := recordingServer(t)
			defer srv.Close()
			rt, err := New(Options{Retry: policy.RetryOptions{MaxBufferedBody: tc.max}})
			require.NoError(t, err)
			defer rt.Close()
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/dbs/d/colls/c/docs", tc.body)
			require.NoError(t, err)
			req.ContentLength = tc.length

			resp, err := rt.RoundTrip(req)
			if resp != nil {
				resp.Body.Close()
				t.Fatalf("got %d, want an error", resp.StatusCode)
			}
			require.Error(t, err)
			if tc.wantIs != nil {
				assert.ErrorIs(t, err, tc.wantIs)
			}
			assert.Contains(t, err.Error(), "transport: reading request body: ")
			assert.Contains(t, err.Error(), tc.wantMsg)
			assert.True(t, tc.body.wasClosed(), "the caller's body was closed")
			for _, r := range seen() {
				assert.False(t, r.complete && int64(r.got) == r.length, "the server received a complete request: %+v", r)
			}
		})
	}
}

// trickle writes a discarded answer's 1000-byte body a byte every 10 ms
// (10 s in all), unless the client goes away.
func trickle(w http.ResponseWriter, r *http.Request) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for range 1000 { // bounded: 10 s at most
		if _, err := w.Write([]byte("x")); err != nil {
			return
		}
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

// stall writes 9 of a discarded answer's 1000 bytes, then nothing until
// the client goes away.
func stall(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "unavailab")
	w.(http.Flusher).Flush()
	<-r.Context().Done()
}

// slowFirstAnswer answers the first request with status, header and a
// body of 1000 announced bytes written by body, and later requests with
// 200 and {"id":"1"}. It counts connections.
func slowFirstAnswer(t *testing.T, status int, header http.Header, body http.HandlerFunc) (srv *httptest.Server, conns func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if !first {
			io.WriteString(w, `{"id":"1"}`)
			return
		}
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(status)
		body(w, r)
	}))
	conns = countConns(srv)
	srv.Start()
	return srv, conns
}

// A discarded answer whose body trickles or stalls costs the call its hint
// and drain's small time bound, not the body's 10 s or a hang, with or
// without a deadline: a trickle is cut between reads, a stall by ending
// the attempt's context, or by closing the body when the Base is an
// *http.Transport (whose bodies allow it). The slow answer's connection is
// dropped; the answer returned is intact, its attempt's context (when it
// has one) alive until Close.
func TestSlowDiscardedResponseDelaysTheCallByTheDrainBoundOnly(t *testing.T) {
	bases := map[string]func() http.RoundTripper{
		"*http.Transport":   func() http.RoundTripper { return nil }, // the default Base
		"another Base type": func() http.RoundTripper { return struct{ http.RoundTripper }{newDefaultBase()} },
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   http.HandlerFunc
	}{
		{"429 (hint 1 ms) trickling for 10 s", http.StatusTooManyRequests, hint("1"), trickle},
		{"503 stalling", http.StatusServiceUnavailable, nil, stall},
	}
	for _, tt := range tests {
		for _, deadline := range []time.Duration{0, 30 * time.Second} {
			for baseName, base := range bases {
				t.Run(fmt.Sprintf("%s, deadline %s, %s", tt.name, deadline, baseName), func(t *testing.T) {
					srv, conns := slowFirstAnswer(t, tt.status, tt.header, tt.body)
					defer srv.Close()
					rt, err := New(Options{Base: base()})
					require.NoError(t, err)
					defer rt.Close()
					ctx := context.Background()
					if deadline > 0 {
						var cancel context.CancelFunc
						ctx, cancel = context.WithTimeout(ctx, deadline)
						defer cancel()
					}
					req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/dbs/d/colls/c/docs/1", nil)
					require.NoError(t, err)

					start := time.Now()
					resp, err := rt.RoundTrip(req)
					took := time.Since(start)
					require.NoError(t, err)
					defer resp.Body.Close()
					b, err := io.ReadAll(resp.Body)
					require.NoError(t, err, "the returned body is readable: its attempt's context lives until Close")
					t.Logf("%s, then 200: the call took %s", tt.name, took)
					assert.Equal(t, http.StatusOK, resp.StatusCode)
					assert.Equal(t, `{"id":"1"}`, string(b))
					assert.Less(t, took, 2*time.Second, "the hint and the drain bound, not the body's 10 s or a hang")
					assert.Equal(t, 2, conns(), "the slow answer's connection was dropped")
				})
			}
		}
	}
}

// A body announced longer than the bound is not read to be kept: content
// leaves it to be sent as it is.
func TestContentLeavesABodyAnnouncedOverTheBound(t *testing.T) {
	calls := 0
	req, err := http.NewRequest(http.MethodPost, "http://example/", strings.NewReader("0123456789"))
	require.NoError(t, err)
	get := req.GetBody
	req.GetBody = func() (io.ReadCloser, error) { calls++; return get() }
	b, err := newReplayBody(req, 4)
	require.NoError(t, err)
	_, ok := b.content(4)
	assert.False(t, ok)
	assert.Zero(t, calls, "GetBody not called")
	first, err := b.next(t.Context())
	require.NoError(t, err)
	sent, err := io.ReadAll(first)
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(sent), "the caller's body goes out whole")
}
