package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// replayBody hands out the request body for each attempt of one call.
// Not safe for concurrent use: attempts of a call are sequential.
type replayBody struct {
	first   io.ReadCloser                 // the caller's body, for attempt 0
	getBody func() (io.ReadCloser, error) // later attempts; nil: not replayable
	length  int64                         // the buffered body's length; -1: leave the request's ContentLength
	used    bool

	// shared says the bodies come from the caller (req.Body and
	// req.GetBody, which may hand out one rewound reader each time): an
	// attempt's body is then taken only once the transport has closed the
	// last one.
	shared bool
	last   *closeSignal
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

// newReplayBody prepares req's body for resends without modifying req.
// A body with GetBody is replayed through it (no copy). Otherwise a body of
// at most max bytes is buffered; a longer one is sent once, unbuffered
// beyond what was read, and the call is not retried. max < 0 disables
// buffering.
func newReplayBody(req *http.Request, max int64) (replayBody, error) {
	if req.Body == nil {
		return replayBody{getBody: nilBody, length: -1}, nil
	}
	if req.Body == http.NoBody {
		return replayBody{getBody: noBody, length: -1}, nil
	}
	if req.GetBody != nil {
		return replayBody{first: req.Body, getBody: req.GetBody, length: -1, shared: true}, nil
	}
	if max < 0 || req.ContentLength > max {
		return replayBody{first: req.Body, length: -1}, nil
	}
	buf, err := readBounded(req.Body, req.ContentLength, max)
	if err != nil {
		req.Body.Close()
		return replayBody{}, fmt.Errorf("transport: reading request body: %w", err)
	}
	if int64(len(buf)) > max {
		// Too long to keep: send what was read followed by the rest, once.
		return replayBody{first: struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), req.Body), req.Body}, length: -1}, nil
	}
	req.Body.Close()
	if len(buf) == 0 {
		return replayBody{getBody: noBody, length: 0}, nil
	}
	get := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	return replayBody{getBody: get, length: int64(len(buf))}, nil
}

// readBounded reads body up to max+1 bytes, in one allocation when its
// length is known. A body longer than max comes back with max+1 bytes.
func readBounded(body io.Reader, known, max int64) ([]byte, error) {
	if known <= 0 {
		return io.ReadAll(io.LimitReader(body, max+1))
	}
	// Room for one byte more than announced, to see a body longer than its
	// ContentLength (the transport would send ContentLength bytes only).
	buf := make([]byte, known+1)
	n, err := io.ReadFull(body, buf)
	switch err {
	case io.ErrUnexpectedEOF, io.EOF:
		return buf[:n], nil
	case nil:
		rest, err := io.ReadAll(io.LimitReader(body, max+1-int64(n)))
		return append(buf, rest...), err
	}
	return nil, err
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
			return nil, fmt.Errorf("transport: waiting for the last attempt to release the request body: %w", ctx.Err())
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
	if b.shared && body != nil && body != http.NoBody {
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

// drain reads at most max bytes of a discarded response and closes it,
// so that its connection can be reused.
func drain(resp *http.Response, max int64) {
	if resp == nil || resp.Body == nil {
		return
	}
	io.CopyN(io.Discard, resp.Body, max)
	resp.Body.Close()
}
