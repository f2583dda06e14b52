package transport

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// replayBody hands out the request body for each attempt of one call.
// Not safe for concurrent use: attempts of a call are sequential.
type replayBody struct {
	first   io.ReadCloser                 // the caller's body, for attempt 0
	getBody func() (io.ReadCloser, error) // later attempts; nil: not replayable
	length  int64                         // the buffered body's length; -1: leave the request's ContentLength
	used    bool
}

// newReplayBody prepares req's body for resends without modifying req.
// A body with GetBody is replayed through it (no copy). Otherwise a body of
// at most max bytes is buffered; a longer one is sent once, unbuffered
// beyond what was read, and the call is not retried. max < 0 disables
// buffering.
func newReplayBody(req *http.Request, max int64) (*replayBody, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return &replayBody{getBody: noBody, length: -1}, nil
	}
	if req.GetBody != nil {
		return &replayBody{first: req.Body, getBody: req.GetBody, length: -1}, nil
	}
	if max < 0 || req.ContentLength > max {
		return &replayBody{first: req.Body, length: -1}, nil
	}
	buf, err := io.ReadAll(io.LimitReader(req.Body, max+1))
	if err != nil {
		req.Body.Close()
		return nil, fmt.Errorf("transport: reading request body: %w", err)
	}
	if int64(len(buf)) > max {
		// Too long to keep: send what was read followed by the rest, once.
		return &replayBody{first: struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), req.Body), req.Body}, length: -1}, nil
	}
	req.Body.Close()
	if len(buf) == 0 {
		return &replayBody{getBody: noBody, length: 0}, nil
	}
	get := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	return &replayBody{getBody: get, length: int64(len(buf))}, nil
}

func noBody() (io.ReadCloser, error) { return http.NoBody, nil }

// replayable reports whether another attempt can carry the whole body.
func (b *replayBody) replayable() bool { return b.getBody != nil }

// next returns the body for the next attempt.
func (b *replayBody) next() (io.ReadCloser, error) {
	if !b.used && b.first != nil {
		b.used = true
		return b.first, nil
	}
	b.used = true
	if b.getBody == nil {
		return nil, errNotReplayable
	}
	return b.getBody()
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
