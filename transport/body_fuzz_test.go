package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cosmosrt/cosmosrt/policy"
)

// chunkedSource is a caller's request body: data, chunk bytes a read, then
// end (io.EOF for a body that ends well). With lastWithEnd, the last bytes
// come in the same read as end.
type chunkedSource struct {
	data        []byte
	chunk       int
	end         error
	lastWithEnd bool
	off         int
}

func (s *chunkedSource) Read(p []byte) (int, error) {
	if s.off >= len(s.data) {
		return 0, s.end
	}
	n := copy(p, s.data[s.off:min(len(s.data), s.off+s.chunk)])
	s.off += n
	if s.off == len(s.data) && s.lastWithEnd {
		return n, s.end
	}
	return n, nil
}

func (s *chunkedSource) Close() error { return nil }

// wireAttempt is what a server would have taken of one attempt's body.
type wireAttempt struct {
	got      []byte
	complete bool // the server had a whole request: its ContentLength in bytes, or a chunked body's end
}

// wireServer reads each attempt's body as net/http sends it: the first
// ContentLength bytes (a server takes the request as complete once they
// arrived), then a check for more; or, for an unknown length, to the end.
// Its first answer is 503 and its later ones 201.
type wireServer struct {
	mu       sync.Mutex // guards attempts
	attempts []wireAttempt
}

func (w *wireServer) RoundTrip(req *http.Request) (*http.Response, error) {
	a, err := wireRead(req)
	if req.Body != nil {
		req.Body.Close()
	}
	w.mu.Lock()
	n := len(w.attempts)
	w.attempts = append(w.attempts, a)
	w.mu.Unlock()
	if err != nil {
		return nil, err
	}
	code := http.StatusCreated
	if n == 0 {
		code = http.StatusServiceUnavailable
	}
	return &http.Response{StatusCode: code, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

var errWireLength = errors.New("wire: body length differs from ContentLength")

func wireRead(req *http.Request) (wireAttempt, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return wireAttempt{complete: true}, nil
	}
	if req.ContentLength <= 0 {
		got, err := io.ReadAll(req.Body)
		return wireAttempt{got: got, complete: err == nil}, err
	}
	got, err := io.ReadAll(io.LimitReader(req.Body, req.ContentLength))
	a := wireAttempt{got: got, complete: int64(len(got)) == req.ContentLength}
	if err != nil {
		return a, err
	}
	if !a.complete {
		return a, errWireLength
	}
	extra, err := io.Copy(io.Discard, req.Body)
	if err != nil {
		return a, err
	}
	if extra > 0 {
		return a, errWireLength
	}
	return a, nil
}

var errFuzzSource = errors.New("source failed")

// FuzzReplayBody sends arbitrary bodies, with known, unknown or wrong
// ContentLength, readers that fail at arbitrary points and arbitrary
// buffer bounds, through the retry loop to a server that answers 503 and
// then 201. Every attempt the server could take as complete carries
// exactly the caller's bytes; a body that fails or does not match its
// ContentLength makes the call fail.
func FuzzReplayBody(f *testing.F) {
	// data, declared ContentLength, exact (ContentLength = len(data)), end
	// (0 EOF, 1 ErrUnexpectedEOF, 2 another error), chunk, lastWithEnd,
	// MaxBufferedBody, GetBody.
	f.Add([]byte(`{"id":"1"}`), int64(0), true, uint8(0), uint8(4), false, int64(0), false)
	f.Add(bytes.Repeat([]byte("a"), 27), int64(27), false, uint8(1), uint8(12), false, int64(0), false)
	f.Add(bytes.Repeat([]byte("a"), 12), int64(27), false, uint8(0), uint8(12), false, int64(0), false)
	f.Add(bytes.Repeat([]byte("a"), 15), int64(10), false, uint8(0), uint8(3), true, int64(0), false)
	f.Add(bytes.Repeat([]byte("a"), 15), int64(10), false, uint8(0), uint8(3), false, int64(-1), false)
	f.Add(bytes.Repeat([]byte("a"), 15), int64(10), false, uint8(0), uint8(3), false, int64(0), true)
	f.Add(bytes.Repeat([]byte("b"), 100), int64(-1), false, uint8(2), uint8(7), true, int64(10), false)
	f.Add(bytes.Repeat([]byte("b"), 100), int64(100), false, uint8(2), uint8(100), true, int64(10), false)
	f.Add(bytes.Repeat([]byte("c"), 64), int64(-1), false, uint8(0), uint8(64), false, int64(math.MaxInt64), false)
	f.Add([]byte{}, int64(0), true, uint8(0), uint8(1), false, int64(0), false)
	f.Add([]byte("x"), int64(1<<40), false, uint8(0), uint8(1), false, int64(math.MaxInt64), true)

	f.Fuzz(func(t *testing.T, data []byte, declared int64, exact bool, end, chunk uint8, lastWithEnd bool, max int64, getBody bool) {
		length := max64(declared, -1)
		if exact {
			length = int64(len(data))
		}
		endErr := [...]error{io.EOF, io.ErrUnexpectedEOF, errFuzzSource}[end%3]
		source := func() *chunkedSource {
			return &chunkedSource{data: data, chunk: int(chunk%64) + 1, end: endErr, lastWithEnd: lastWithEnd}
		}
		faulty := endErr != io.EOF || (length > 0 && length != int64(len(data)))

		synctest.Test(t, func(t *testing.T) {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, docsURL, source())
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = length
			if getBody {
				req.GetBody = func() (io.ReadCloser, error) { return source(), nil }
			}
			w := &wireServer{}
			resp, err := NewRetry(w, policy.RetryOptions{MaxBufferedBody: max}).RoundTrip(req)
			if resp != nil {
				resp.Body.Close()
			}
			if (resp == nil) == (err == nil) {
				t.Fatalf("response %v with error %v", resp, err)
			}
			for i, a := range w.attempts {
				if a.complete && !bytes.Equal(a.got, data) {
					t.Fatalf("attempt %d went out complete with %d bytes, not the caller's %d", i+1, len(a.got), len(data))
				}
				if !faulty && !a.complete {
					t.Fatalf("attempt %d of a sound body went out incomplete", i+1)
				}
			}
			if faulty && err == nil {
				t.Fatalf("a body that fails (%v) or has %d bytes for ContentLength %d was sent: %d", endErr, len(data), length, resp.StatusCode)
			}
			if !faulty && err != nil {
				t.Fatalf("a sound body failed: %v", err)
			}
		})
	})
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// drainSource is a response body for FuzzDrain: data, chunk bytes a read,
// each read taking delay, then end.
type drainSource struct {
	data   []byte
	chunk  int
	delay  time.Duration
	end    error
	read   int
	reads  int
	closed bool
}

func (b *drainSource) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errors.New("read after close")
	}
	b.reads++
	if b.read >= len(b.data) {
		return 0, b.end
	}
	time.Sleep(b.delay)
	n := copy(p, b.data[b.read:min(len(b.data), b.read+b.chunk)])
	b.read += n
	return n, nil
}

func (b *drainSource) Close() error { b.closed = true; return nil }

// FuzzDrain feeds arbitrary response bodies and lengths to drain: it always
// closes the body, never reads more than its byte bound, and spends at
// most its time bound and one read.
func FuzzDrain(f *testing.F) {
	// data, ContentLength, max, chunk, delay (ms), failing end, abort.
	f.Add([]byte(`{"code":"TooManyRequests"}`), int64(26), int64(64<<10), uint8(255), uint8(0), false, false)
	f.Add(bytes.Repeat([]byte("x"), 1000), int64(-1), int64(100), uint8(33), uint8(0), false, false)
	f.Add(bytes.Repeat([]byte("x"), 1000), int64(1000), int64(64<<10), uint8(1), uint8(10), false, true)
	f.Add(bytes.Repeat([]byte("x"), 1000), int64(5), int64(64<<10), uint8(1), uint8(200), true, true)
	f.Add([]byte("x"), int64(1<<40), int64(10), uint8(1), uint8(0), false, false)
	f.Add([]byte("xyz"), int64(-1), int64(0), uint8(1), uint8(0), false, false)
	f.Add([]byte("xyz"), int64(-1), int64(-5), uint8(1), uint8(0), true, false)

	f.Fuzz(func(t *testing.T, data []byte, length, max int64, chunk, delayMs uint8, failing, withAbort bool) {
		delay := time.Duration(delayMs) * time.Millisecond
		end := io.EOF
		if failing {
			end = io.ErrUnexpectedEOF
		}
		synctest.Test(t, func(t *testing.T) {
			b := &drainSource{data: data, chunk: int(chunk) + 1, delay: delay, end: end}
			var aborts atomic.Int32
			var abort func()
			if withAbort {
				abort = func() { aborts.Add(1) }
			}
			start := time.Now()
			drain(&http.Response{Body: b, ContentLength: length}, max, abort)
			took := time.Since(start)

			if !b.closed {
				t.Fatal("the body was not closed")
			}
			if int64(b.read) > max64(max, 0) {
				t.Fatalf("read %d bytes, bound %d", b.read, max)
			}
			if length > max && b.reads > 0 {
				t.Fatalf("a body announced longer (%d) than the bound (%d) was read", length, max)
			}
			if took >= drainTime+delay {
				t.Fatalf("took %s, bound %s and one read of %s", took, drainTime, delay)
			}
			if aborts.Load() > 1 {
				t.Fatalf("aborted %d times", aborts.Load())
			}
			if delay == 0 && max > 0 && length <= max && b.read != int(min(int64(len(data)), max)) {
				t.Fatalf("a fast body: read %d of %d bytes, bound %d", b.read, len(data), max)
			}
		})
	})
}
