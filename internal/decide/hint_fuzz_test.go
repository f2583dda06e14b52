package decide_test

import (
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// FuzzRetryAfter checks RetryAfter's contract on arbitrary header values,
// clocks, defaults and limits: a hint is never negative, never above a
// positive limit, the default is returned exactly when there is no
// well-formed hint, and a limit of zero or less does not clamp.
func FuzzRetryAfter(f *testing.F) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	const (
		sec = int64(time.Second)
		inf = int64(math.MaxInt64)
	)
	for _, s := range []struct {
		ms, ra     string
		now        int64
		def, limit int64
	}{
		// Values the service sends.
		{"", "", now, 5 * sec, 30 * sec},
		{"12", "", now, 5 * sec, 30 * sec},
		{"12.5", "", now, 5 * sec, 30 * sec},
		{" 100 ", "7", now, 5 * sec, 30 * sec},
		{"", "7", now, 5 * sec, 30 * sec},
		{"", "120", now, 5 * sec, 30 * sec},
		{"", "Sun, 01 Jun 2025 12:00:10 GMT", now, 5 * sec, 30 * sec},
		{"", "Sunday, 01-Jun-25 12:00:10 GMT", now, 5 * sec, 0},
		{"", "Sun Jun  1 12:00:10 2025", now, 5 * sec, -1},
		{"", "Sun, 01 Jun 2025 11:00:00 GMT", now, 5 * sec, 30 * sec},
		// Hostile values.
		{"-5", "-5", now, 5 * sec, 30 * sec},
		{"-", "-", now, 5 * sec, 30 * sec},
		{"--1", "+1", now, 5 * sec, 30 * sec},
		{"1.", ".5", now, 5 * sec, 30 * sec},
		{"1e3", "1e3", now, 5 * sec, 30 * sec},
		{"0x10", "0x10", now, 5 * sec, 30 * sec},
		{"NaN", "Inf", now, 5 * sec, 30 * sec},
		{"١٢", "١٢", now, 5 * sec, 30 * sec}, // non-ASCII digits
		{"9223372036854775807", "9223372036854775807", now, 5 * sec, 0},
		{"99999999999999999999999999999999", "", now, 5 * sec, 0},
		{"", "99999999999999999999999999999999", now, 5 * sec, 0},
		{"9223372036854.775807", "9223372036", now, 5 * sec, -1},
		{"0.0000001", "0", now, 5 * sec, 30 * sec},
		{"", "Fri, 31 Dec 9999 23:59:59 GMT", now, 5 * sec, 0},
		{"", "Mon, 01 Jan 0001 00:00:00 GMT", math.MaxInt64, 5 * sec, 0},
		{"", "Mon, 01 Jan 0001 00:00:00 GMT", math.MinInt64, 5 * sec, 0},
		{"", "Sun, 01 Jun 2025 12:00:10 GMT", math.MinInt64, -1, 1},
		{"12", "", now, -5 * sec, 30 * sec},
		{"", "", now, inf, 1},
		{"12\x00", "7\r\n", now, 5 * sec, 30 * sec},
	} {
		f.Add(s.ms, s.ra, s.now, s.def, s.limit)
	}
	f.Fuzz(func(t *testing.T, ms, ra string, nowNanos, def, limit int64) {
		h := http.Header{}
		if ms != "" {
			h[wire.HeaderRetryAfterMs] = []string{ms}
		}
		if ra != "" {
			h["Retry-After"] = []string{ra}
		}
		at := time.Unix(0, nowNanos)
		d, l := time.Duration(def), time.Duration(limit)

		// -1 is never a hint, so it tells whether there was one.
		hint := decide.RetryAfter(h, at, -1, l)
		got := decide.RetryAfter(h, at, d, l)
		if hint == -1 {
			if got != d {
				t.Fatalf("no hint: RetryAfter = %v, want the default %v", got, d)
			}
			return
		}
		if got != hint {
			t.Fatalf("hint %v depends on the default: %v with default %v", hint, got, d)
		}
		if hint < 0 {
			t.Fatalf("RetryAfter(%q, %q) = %v, negative", ms, ra, hint)
		}
		if l > 0 && hint > l {
			t.Fatalf("RetryAfter(%q, %q) = %v, above the limit %v", ms, ra, hint, l)
		}
		unclamped := decide.RetryAfter(h, at, -1, 0)
		if other := decide.RetryAfter(h, at, -1, -1); other != unclamped {
			t.Fatalf("limits 0 and -1 differ: %v and %v", unclamped, other)
		}
		if want := unclamped; l > 0 && want > l {
			if hint != l {
				t.Fatalf("hint %v with limit %v = %v, want the limit", unclamped, l, hint)
			}
		} else if hint != want {
			t.Fatalf("hint %v with limit %v = %v, want it unchanged", unclamped, l, hint)
		}
		// A plain small number of milliseconds is read exactly.
		if n, err := strconv.ParseUint(ms, 10, 64); err == nil && n < 1<<32 {
			if want := time.Duration(n) * time.Millisecond; unclamped != want {
				t.Fatalf("x-ms-retry-after-ms %q = %v, want %v", ms, unclamped, want)
			}
		}
	})
}
