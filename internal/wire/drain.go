package wire

import (
	"io"
	"net/http"
	"time"
)

// MaxDrain is the usual bound on the bytes Drain reads of a discarded
// response: enough for the small error documents the service sends, so
// that their connection is reused.
const MaxDrain = 64 << 10

// drainTime bounds the time Drain spends on a discarded response. The
// response worth draining is a small error document whose rest is already
// in flight: it arrives within a round trip, well under this bound, and
// reading it to the end lets net/http reuse the connection. A response
// still arriving after it is slow or endless: cutting it off costs one new
// connection, which is far less than a call stalled behind it (a 429's hint
// may be 1 ms).
const drainTime = 100 * time.Millisecond

// Drain reads at most max bytes of a discarded response, for at most
// 100 ms (drainTime), and closes it: a rest that arrives in that budget
// leaves the connection reusable, anything else drops it. A response whose
// ContentLength exceeds max, or a max of 0 or less, is closed without
// reading. The time bound is checked between reads, so a body that
// trickles is cut off. A single read that blocks is ended by abort, when
// not nil: Drain calls it once, on another goroutine, if it is still
// reading when the time bound passes, and returns only after abort has
// returned. abort must make a blocked read return: cancelling the
// request's context does for any RoundTripper that keeps the contract;
// closing the body does only for bodies that allow a Close during a Read,
// as net/http's do (on others it would be a data race). Drain itself
// never touches the body from another goroutine. A nil resp or body is
// ignored.
func Drain(resp *http.Response, max int64, abort func()) {
	if resp == nil || resp.Body == nil {
		return
	}
	defer resp.Body.Close()
	if max <= 0 || resp.ContentLength > max {
		return // its end is out of reach: the connection goes either way
	}
	until := time.Now().Add(drainTime)
	if abort != nil {
		fired := make(chan struct{})
		t := time.AfterFunc(drainTime, func() { abort(); close(fired) })
		defer func() {
			if !t.Stop() {
				<-fired
			}
		}()
	}
	_, _ = io.Copy(io.Discard, &boundedReader{r: resp.Body, left: max, until: until})
}

// boundedReader reads r until left bytes were read or the time until has
// come, then reports io.EOF.
type boundedReader struct {
	r     io.Reader
	left  int64
	until time.Time
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 || !time.Now().Before(b.until) {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// CloseIdle closes rt's idle connections if rt can (it has a
// CloseIdleConnections method, as *http.Transport and every stage of the
// chain do): how a RoundTripper forwards CloseIdleConnections to the one
// it wraps.
func CloseIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
