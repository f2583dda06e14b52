package bench

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// doc is the small JSON document the servers answer with.
var doc = []byte(`{"id":"1","pk":"p1","name":"the quick brown fox","count":42,"_etag":"\"00000000-0000\""}`)

// callHeader carries a call's number, so that a server can tell a call's
// first attempt from its retries.
const callHeader = "X-Bench-Call"

// counts is what a test server saw.
type counts struct {
	requests atomic.Int64 // requests received
	conns    atomic.Int64 // TCP connections accepted
}

// newServer starts h on 127.0.0.1, counting requests and connections. The
// server is closed when tb ends.
func newServer(tb testing.TB, h http.Handler) (*httptest.Server, *counts) {
	c := &counts{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			c.conns.Add(1)
		}
	}
	srv.Start()
	tb.Cleanup(srv.Close)
	return srv, c
}

// writeDoc answers status with doc.
func writeDoc(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(doc)
}

// okHandler answers every request 200 with doc.
func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { writeDoc(w, http.StatusOK) })
}

// createHandler reads the whole request body and answers 201 with doc.
func createHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeDoc(w, http.StatusCreated)
	})
}

// unavailableHandler answers every request 503 without a hint, as a region
// in an outage does.
func unavailableHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"code":"ServiceUnavailable","message":"bench: sustained outage"}`)
	})
}

// throttleOnce answers the first attempt of each call (callHeader) 429 with
// one hint header, and every later attempt of the same call 200. It
// measures the time from each 429 to the call's next attempt.
type throttleOnce struct {
	hintName, hintValue string

	mu      sync.Mutex // guards the fields below
	last    string     // the call answered 429 last
	sentAt  time.Time  // when that 429 was answered
	waited  time.Duration
	retries int64
}

func (t *throttleOnce) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := r.Header.Get(callHeader)
	t.mu.Lock()
	if call != t.last {
		t.last, t.sentAt = call, time.Now()
		t.mu.Unlock()
		w.Header().Set(t.hintName, t.hintValue)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"code":"TooManyRequests","message":"bench: throttled"}`)
		return
	}
	t.waited += time.Since(t.sentAt)
	t.retries++
	t.mu.Unlock()
	writeDoc(w, http.StatusOK)
}

// meanWait returns the mean time between a 429 and the retry that followed
// it, and how many retries there were.
func (t *throttleOnce) meanWait() (time.Duration, int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.retries == 0 {
		return 0, 0
	}
	return t.waited / time.Duration(t.retries), t.retries
}
