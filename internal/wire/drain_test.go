package wire

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A body that stalls in the middle of a read is cut off at Drain's time
// bound by aborting the request's context, without closing the body from
// another goroutine.
func TestDrainEndsAStalledBodyThroughTheRequestContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "unavailab")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	base := http.DefaultTransport.(*http.Transport).Clone()
	defer base.CloseIdleConnections()
	ctx, abort := context.WithCancelCause(context.Background())
	defer abort(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := base.RoundTrip(req)
	require.NoError(t, err)

	start := time.Now()
	aborted := false
	Drain(resp, MaxDrain, func() { aborted = true; abort(errors.New("drained")) })
	took := time.Since(start)
	t.Logf("a stalled body was drained in %s", took)
	assert.True(t, aborted)
	assert.GreaterOrEqual(t, took, drainTime)
	assert.Less(t, took, 2*time.Second)
}

// drainBody is a response body that hands out size bytes, chunk bytes a
// read, each read taking delay. It counts what was read and whether it was
// closed. Not safe for concurrent use: Drain must not need it to be.
type drainBody struct {
	size, chunk int
	delay       time.Duration
	read        int
	closed      bool
}

func (b *drainBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errors.New("read after close")
	}
	if b.read >= b.size {
		return 0, io.EOF
	}
	time.Sleep(b.delay)
	n := min(len(p), b.chunk, b.size-b.read)
	b.read += n
	return n, nil
}

func (b *drainBody) Close() error { b.closed = true; return nil }

func TestDrainBoundsBytesAndTime(t *testing.T) {
	for _, tc := range []struct {
		name     string
		body     drainBody
		length   int64
		max      int64
		wantRead int
		wantTime time.Duration
	}{
		{name: "small and fast: read to the end", body: drainBody{size: 500, chunk: 100}, length: -1, max: 1000, wantRead: 500},
		{name: "longer than max: max bytes", body: drainBody{size: 5000, chunk: 700}, length: -1, max: 1000, wantRead: 1000},
		{name: "announced longer than max: not read", body: drainBody{size: 5000, chunk: 700}, length: 5000, max: 1000},
		{name: "max off", body: drainBody{size: 5, chunk: 5}, length: -1, max: -1},
		{name: "trickling: cut off at the bound", body: drainBody{size: 1000, chunk: 1, delay: 10 * time.Millisecond},
			length: 1000, max: MaxDrain, wantRead: 10, wantTime: drainTime},
		{name: "slow reads: the bound is checked between reads", body: drainBody{size: 1000, chunk: 10, delay: 70 * time.Millisecond},
			length: -1, max: MaxDrain, wantRead: 20, wantTime: 140 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := tc.body
				start := time.Now()
				Drain(&http.Response{Body: &b, ContentLength: tc.length}, tc.max, nil)
				assert.Equal(t, tc.wantRead, b.read)
				assert.True(t, b.closed)
				assert.Equal(t, tc.wantTime, time.Since(start))
			})
		})
	}
}

func TestDrainIgnoresANilResponseOrBody(t *testing.T) {
	assert.NotPanics(t, func() {
		Drain(nil, MaxDrain, nil)
		Drain(&http.Response{}, MaxDrain, nil)
	})
}

// idleCounter is a RoundTripper that counts CloseIdleConnections calls.
type idleCounter struct {
	http.RoundTripper
	closed int
}

func (c *idleCounter) CloseIdleConnections() { c.closed++ }

func TestCloseIdleForwardsWhenItCan(t *testing.T) {
	c := &idleCounter{}
	CloseIdle(c)
	assert.Equal(t, 1, c.closed)
	assert.NotPanics(t, func() {
		CloseIdle(http.RoundTripper(nil))
		CloseIdle(struct{ http.RoundTripper }{}) // no CloseIdleConnections
	})
}
