package wire

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

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

// FuzzDrain feeds arbitrary response bodies and lengths to Drain: it always
// closes the body, never reads more than its byte bound, and spends at
// most its time bound and one read.
func FuzzDrain(f *testing.F) {
	// data, ContentLength, bound, chunk, delay (ms), failing end, abort.
	f.Add([]byte(`{"code":"TooManyRequests"}`), int64(26), int64(64<<10), uint8(255), uint8(0), false, false)
	f.Add(bytes.Repeat([]byte("x"), 1000), int64(-1), int64(100), uint8(33), uint8(0), false, false)
	f.Add(bytes.Repeat([]byte("x"), 1000), int64(1000), int64(64<<10), uint8(1), uint8(10), false, true)
	f.Add(bytes.Repeat([]byte("x"), 1000), int64(5), int64(64<<10), uint8(1), uint8(200), true, true)
	f.Add([]byte("x"), int64(1<<40), int64(10), uint8(1), uint8(0), false, false)
	f.Add([]byte("xyz"), int64(-1), int64(0), uint8(1), uint8(0), false, false)
	f.Add([]byte("xyz"), int64(-1), int64(-5), uint8(1), uint8(0), true, false)

	f.Fuzz(func(t *testing.T, data []byte, length, bound int64, chunk, delayMs uint8, failing, withAbort bool) {
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
			Drain(&http.Response{Body: b, ContentLength: length}, bound, abort)
			took := time.Since(start)

			if !b.closed {
				t.Fatal("the body was not closed")
			}
			if int64(b.read) > max(bound, 0) {
				t.Fatalf("read %d bytes, bound %d", b.read, bound)
			}
			if length > bound && b.reads > 0 {
				t.Fatalf("a body announced longer (%d) than the bound (%d) was read", length, bound)
			}
			if took >= drainTime+delay {
				t.Fatalf("took %s, bound %s and one read of %s", took, drainTime, delay)
			}
			if aborts.Load() > 1 {
				t.Fatalf("aborted %d times", aborts.Load())
			}
			if delay == 0 && bound > 0 && length <= bound && b.read != int(min(int64(len(data)), bound)) {
				t.Fatalf("a fast body: read %d of %d bytes, bound %d", b.read, len(data), bound)
			}
		})
	})
}
