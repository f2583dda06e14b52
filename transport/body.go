package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
)

// replayBody hands out the request body for each attempt of one call.
// Not safe for concurrent use: attempts of a call are sequential.
type replayBody struct {
	first   io.ReadCloser                 // the caller's body, for attempt 0
	getBody func() (io.ReadCloser, error) // later attempts; nil: not replayable
	length  int64                         // the buffered body's length; -1: leave the request's ContentLength
	buf     []byte                        // the buffered body; nil: not buffered, or empty
	used    bool

	// want, when positive, is the request's ContentLength, which the
	// bodies handed out unbuffered (the caller's own) must match exactly.
	want int64

	// shared says the bodies come from the caller (req.Body and
	// req.GetBody, which may hand out one rewound reader each time): an
	// attempt's body is then taken only once the transport has closed the
	// last one.
	shared  bool
	last    *closeSignal
	closing <-chan struct{} // closed by Transport.Close: a wait for the last attempt's body ends; nil: never
}

// closeSignal is a body that tells when it was first closed. net/http
// closes a request body when it is done with it, which may be after
// RoundTrip has returned (an early answer to a body still being sent).
type closeSignal struct {
	io.ReadCloser
	once   sync.Once
	closed chan struct{}
}

func (b *closeSignal) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { close(b.closed) })
	return err
}

// bodyLengthError says a request body did not have the length its
// ContentLength announced; the wording follows net/http's.
type bodyLengthError struct {
	want, got int64
	over      bool // the body had more than got bytes
}

func (e *bodyLengthError) Error() string {
	if e.over {
		return fmt.Sprintf("ContentLength=%d with Body length over %d", e.want, e.got)
	}
	return fmt.Sprintf("ContentLength=%d with Body length %d", e.want, e.got)
}

// newReplayBody prepares req's body for resends without modifying req.
// A body with GetBody is replayed through it (no copy). Otherwise a body of
// at most max bytes is buffered; a longer one is sent once, unbuffered
// beyond what was read, and the call is not retried. max < 0 disables
// buffering.
//
// A body is never sent as complete unless it is: when the caller's reader
// fails, newReplayBody (or the attempt reading it) returns the reader's
// error, wrapped; when the request's ContentLength is positive, a body
// shorter or longer than it is an error. On an error from newReplayBody
// req.Body is closed and nothing may be sent.
func newReplayBody(req *http.Request, max int64) (replayBody, error) {
	if req.Body == nil {
		return replayBody{getBody: nilBody, length: -1}, nil
	}
	if req.Body == http.NoBody {
		return replayBody{getBody: noBody, length: -1}, nil
	}
	want := req.ContentLength // checked by lengthGuard when positive
	if req.GetBody != nil {
		return replayBody{first: req.Body, getBody: req.GetBody, length: -1, want: want, shared: true}, nil
	}
	if max < 0 || req.ContentLength > max {
		return replayBody{first: req.Body, length: -1, want: want}, nil
	}
	buf, err := readBounded(req.Body, req.ContentLength, max)
	if err != nil {
		req.Body.Close()
		return replayBody{}, fmt.Errorf("transport: reading request body: %w", err)
	}
	if int64(len(buf)) > max {
		// Too long to keep (and of unknown length, or readBounded would
		// have failed): send what was read followed by the rest, once.
		return replayBody{first: struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), req.Body), req.Body}, length: -1}, nil
	}
	req.Body.Close()
	if len(buf) == 0 {
		return replayBody{getBody: noBody, length: 0}, nil
	}
	return bufferedBody(buf), nil
}

// maxPreallocated bounds the buffer readBounded allocates on the word of a
// ContentLength; a longer announced body is buffered as it arrives.
const maxPreallocated = 4 << 20

// readBounded reads body to its end, up to max+1 bytes, in one allocation
// when its length is known. A body of unknown length (known ≤ 0) longer
// than max comes back with max+1 bytes. A body whose length is known (at
// most max) must have exactly that length: a shorter or longer one is a
// *bodyLengthError. Any error of the reader but io.EOF is returned as it
// is, whatever its value: a reader's io.ErrUnexpectedEOF is a failure, not
// the end of the body.
func readBounded(body io.Reader, known, max int64) ([]byte, error) {
	limit := max
	if limit < math.MaxInt64 {
		limit++
	}
	if known <= 0 {
		return io.ReadAll(io.LimitReader(body, limit))
	}
	// Room for one byte more than announced, to see a longer body.
	var buf []byte
	var err error
	if known < maxPreallocated {
		buf = make([]byte, known+1)
		var n int
		n, err = readUntilEOF(body, buf)
		buf = buf[:n]
	} else {
		buf, err = io.ReadAll(io.LimitReader(body, known+1))
	}
	switch n := int64(len(buf)); {
	case err != nil:
		return nil, err
	case n < known:
		return nil, &bodyLengthError{want: known, got: n}
	case n == known:
		return buf, nil
	}
	// Longer than announced: count on, within the bound, to say by how much.
	rest, err := io.Copy(io.Discard, io.LimitReader(body, max-known))
	if err != nil {
		return nil, err
	}
	if got := known + 1 + rest; got <= max {
		return nil, &bodyLengthError{want: known, got: got}
	}
	return nil, &bodyLengthError{want: known, got: max, over: true}
}

// readUntilEOF fills buf from r until buf is full or r reports an error;
// io.EOF comes back as a nil error, any other error as it is.
func readUntilEOF(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func noBody() (io.ReadCloser, error) { return http.NoBody, nil }

// nilBody keeps a request without a body as it is: net/http sends a nil
// Body without wrapping it.
func nilBody() (io.ReadCloser, error) { return nil, nil }

// replayable reports whether another attempt can carry the whole body.
func (b *replayBody) replayable() bool { return b.getBody != nil }

// released reports whether the next attempt's body can be taken without
// waiting: no body of the caller's is still held by the last attempt.
func (b *replayBody) released() bool {
	if b.last == nil {
		return true
	}
	select {
	case <-b.last.closed:
		return true
	default:
		return false
	}
}

// next returns the body for the next attempt. For a body the caller
// supplies, it first waits until the last attempt's body was closed, or
// ctx ends.
func (b *replayBody) next(ctx context.Context) (io.ReadCloser, error) {
	if b.last != nil {
		select {
		case <-b.last.closed:
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the last attempt to release it: %w", ctx.Err())
		case <-b.closing:
			return nil, fmt.Errorf("waiting for the last attempt to release it: %w", ErrClosed)
		}
	}
	var body io.ReadCloser
	if !b.used && b.first != nil {
		body = b.first
	} else if b.getBody == nil {
		return nil, errNotReplayable
	} else {
		var err error
		if body, err = b.getBody(); err != nil {
			return nil, err
		}
	}
	b.used = true
	if body == nil || body == http.NoBody {
		return body, nil
	}
	if b.want > 0 {
		body = &lengthGuard{body: body, want: b.want, left: b.want}
	}
	if b.shared {
		b.last = &closeSignal{ReadCloser: body, closed: make(chan struct{})}
		return b.last, nil
	}
	return body, nil
}

// close releases the caller's body if no attempt took it.
func (b *replayBody) close() {
	if !b.used && b.first != nil {
		b.first.Close()
	}
}

// maxEmptyReads bounds the reads that return nothing and no error in a
// row (which io.Reader discourages) before a reader is deemed stuck.
const maxEmptyReads = 100

// lengthGuard passes on a body the caller supplied with a positive
// ContentLength, and fails rather than let a body that does not match it
// look complete. net/http sends the first ContentLength bytes before it
// checks for more, so a longer body would otherwise reach the service as a
// complete request: the guard holds back the read that would complete the
// body until it has seen the source end. A read error of the source is
// returned wrapped, also in place of the completing bytes. Not safe for
// concurrent use, like the body it guards.
type lengthGuard struct {
	body       io.ReadCloser
	want, left int64
	err        error // sticky
}

func (g *lengthGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.left == 0 {
		return 0, io.EOF // only after the end was confirmed
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n, err := g.body.Read(p)
	g.left -= int64(n)
	switch {
	case err == io.EOF && g.left > 0:
		return 0, g.fail(&bodyLengthError{want: g.want, got: g.want - g.left})
	case err != nil && err != io.EOF:
		return 0, g.fail(err)
	case g.left > 0:
		return n, nil
	case err == nil:
		if err := g.confirmEnd(); err != nil {
			return 0, g.fail(err)
		}
	}
	return n, io.EOF
}

// confirmEnd reads one byte past ContentLength, expecting io.EOF.
func (g *lengthGuard) confirmEnd() error {
	var one [1]byte
	for range maxEmptyReads {
		n, err := g.body.Read(one[:])
		if n > 0 {
			return &bodyLengthError{want: g.want, got: g.want, over: true}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

func (g *lengthGuard) fail(err error) error {
	g.err = &requestBodyError{err: err}
	return g.err
}

// requestBodyError is the failure of a request body the caller supplied:
// its reader failed, or its length was not the announced one. It ends the
// call as it is, its cause visible (see call.failed): it is the caller's,
// not the service's.
type requestBodyError struct{ err error }

func (e *requestBodyError) Error() string { return "transport: reading request body: " + e.err.Error() }

func (e *requestBodyError) Unwrap() error { return e.err }

// RequestBodyFailed marks the error as the caller's body's, for the retry
// rules: the request was cut short, and is not retried.
func (e *requestBodyError) RequestBodyFailed() {}

func (g *lengthGuard) Close() error { return g.body.Close() }

// forkable reports whether the body can be handed to several attempts at
// once (the arms of a hedged read): no body, or one the transport
// buffered. A body the caller supplies is read by one attempt at a time.
func (b *replayBody) forkable() bool {
	return !b.shared && b.first == nil && b.getBody != nil
}

// fork returns an independent replayBody over the same bytes, for one arm
// of a hedged read. Only a forkable body may be forked.
func (b *replayBody) fork() replayBody {
	return replayBody{getBody: b.getBody, length: b.length, buf: b.buf}
}

// content returns the whole body, at most max bytes (no body: nil), read
// once, and from then on hands out that buffer to every attempt. A body
// read through the caller's GetBody is never followed by the caller's
// req.Body (GetBody may hand out the same reader, rewound): when it cannot
// be kept (longer than max, or a read fails) content reports false, and
// every attempt takes its body from GetBody. It reports false, with the
// body untouched, for a body sent once.
func (b *replayBody) content(max int64) ([]byte, bool) {
	switch {
	case b.getBody == nil || max < 0 || b.used || b.want > max:
		return nil, false // a body announced longer than max is left as it is, unread
	case b.buf != nil || b.length == 0:
		return b.buf, true
	case !b.shared:
		return nil, b.first == nil // no body at all
	}
	// The caller's GetBody: its req.Body is not sent from now on.
	b.first.Close()
	b.first, b.used = nil, true
	r, err := b.getBody()
	if err != nil {
		return nil, false
	}
	if r == nil || r == http.NoBody {
		return nil, false
	}
	buf, err := readBounded(r, b.want, max)
	r.Close()
	if err != nil || int64(len(buf)) > max {
		return nil, false
	}
	*b = bufferedBody(buf)
	return buf, true
}

// rebuffer returns a replayBody over buf in place of b, releasing the
// caller's body, which no attempt will read.
func (b *replayBody) rebuffer(buf []byte) replayBody {
	b.close()
	return bufferedBody(buf)
}

// bufferedBody returns a replayBody that hands out buf to every attempt.
func bufferedBody(buf []byte) replayBody {
	get := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	return replayBody{getBody: get, length: int64(len(buf)), buf: buf}
}
