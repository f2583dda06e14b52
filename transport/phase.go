package transport

import (
	"crypto/tls"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"

	"github.com/cosmosrt/cosmosrt/internal/decide"
)

// phases is the innermost stage: it watches each attempt's connection
// (net/http/httptrace) and tags a failed attempt's error with how far the
// attempt got, so that "was it sent?" is decided from what happened on the
// connection rather than from the error's type. A TLS record error read
// with the response, after the request was written, is then ambiguous; a
// TLS handshake timeout is never-sent.
//
// It watches only a Base that reports its connections, an *http.Transport;
// any other Base's errors pass untagged and decide.Classify falls back to
// the error's type (conservatively: only errors that can come from nothing
// but connecting are never-sent).
type phases struct {
	next *http.Transport
}

// newPhases returns next wrapped in a phases stage when next reports its
// connections, else next itself.
func newPhases(next http.RoundTripper) http.RoundTripper {
	if t, ok := next.(*http.Transport); ok {
		return &phases{next: t}
	}
	return next
}

func (p *phases) RoundTrip(req *http.Request) (*http.Response, error) {
	w := watches.Get().(*phaseWatch)
	w.reset()
	defer watches.Put(w)
	trace := &w.trace
	if httptrace.ContextClientTrace(req.Context()) != nil {
		// WithClientTrace composes the caller's hooks into the trace it is
		// given, in place: the pooled trace must not keep them.
		copied := w.trace
		trace = &copied
	}
	ctx := httptrace.WithClientTrace(req.Context(), trace)
	resp, err := p.next.RoundTrip(req.WithContext(ctx))
	if err == nil {
		return resp, nil
	}
	phase := w.phase()
	if phase == decide.PhaseUnknown {
		// An *http.Transport reports GetConn before it seeks a connection:
		// it refused the request itself.
		phase = decide.PhaseLocal
	}
	return resp, &attemptError{err: err, phase: phase}
}

func (p *phases) CloseIdleConnections() { p.next.CloseIdleConnections() }

// watches recycles phaseWatches, whose hooks are bound once, so that an
// attempt costs no allocation for them. A hook that net/http calls late,
// after its attempt returned, can only raise the phase of a later attempt
// that reuses the watch: that attempt then counts as possibly sent, never
// the reverse, so no write is resent because of it.
var watches = sync.Pool{New: func() any { return newPhaseWatch() }}

// phaseWatch records the furthest phase an attempt reached. Its hooks may
// run on net/http's connection goroutines; net/http returns an error only
// after its writer for the request has stopped (HTTP/1), so the phase is
// settled when RoundTrip returns.
type phaseWatch struct {
	reached atomic.Uint32 // a decide.Phase; only ever raised while in use
	h2      atomic.Bool   // the connection speaks HTTP/2
	trace   httptrace.ClientTrace
}

func newPhaseWatch() *phaseWatch {
	w := &phaseWatch{}
	w.trace = httptrace.ClientTrace{
		GetConn: func(string) { w.raise(decide.PhaseConnecting) },
		GotConn: func(info httptrace.GotConnInfo) {
			if c, ok := info.Conn.(*tls.Conn); ok && c.ConnectionState().NegotiatedProtocol == "h2" {
				w.h2.Store(true)
			}
			w.raise(decide.PhaseConnected)
		},
		WroteHeaders: func() { w.raise(decide.PhaseWritten) },
	}
	return w
}

func (w *phaseWatch) reset() {
	w.reached.Store(uint32(decide.PhaseUnknown))
	w.h2.Store(false)
}

func (w *phaseWatch) raise(p decide.Phase) {
	for {
		old := w.reached.Load()
		if old >= uint32(p) || w.reached.CompareAndSwap(old, uint32(p)) {
			return
		}
	}
}

// phase returns the phase reached. On an HTTP/2 connection the request is
// written by another goroutine that net/http does not wait for before
// returning an error, so a request that had its connection counts as
// possibly written.
func (w *phaseWatch) phase() decide.Phase {
	p := decide.Phase(w.reached.Load())
	if p == decide.PhaseConnected && w.h2.Load() {
		return decide.PhaseWritten
	}
	return p
}

// attemptError is an attempt's error with the phase the attempt reached.
// Its message and chain are the original error's.
type attemptError struct {
	err   error
	phase decide.Phase
}

func (e *attemptError) Error() string              { return e.err.Error() }
func (e *attemptError) Unwrap() error              { return e.err }
func (e *attemptError) RequestPhase() decide.Phase { return e.phase }
