package decide

import (
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/policy"
)

// FuzzRetryAfterHint checks the hint's contract on arbitrary header
// values and clocks, and its clamp on arbitrary MaxRetryAfter: a hint is
// never negative, is zero when there is none, reads a plain number of
// milliseconds exactly; the clamp bounds it by a positive MaxRetryAfter
// (30 s for zero) and leaves it alone for a negative one.
func FuzzRetryAfterHint(f *testing.F) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	const sec = int64(time.Second)
	for _, s := range []struct {
		ms, ra string
		now    int64
		limit  int64
	}{
		// Values the service sends.
		{"", "", now, 30 * sec},
		{"12", "", now, 30 * sec},
		{"12.5", "", now, 30 * sec},
		{" 100 ", "7", now, 30 * sec},
		{"", "7", now, 30 * sec},
		{"", "120", now, 30 * sec},
		{"", "Sun, 01 Jun 2025 12:00:10 GMT", now, 30 * sec},
		{"", "Sunday, 01-Jun-25 12:00:10 GMT", now, 0},
		{"", "Sun Jun  1 12:00:10 2025", now, -1},
		{"", "Sun, 01 Jun 2025 11:00:00 GMT", now, 30 * sec},
		// Hostile values.
		{"-5", "-5", now, 30 * sec},
		{"-", "-", now, 30 * sec},
		{"--1", "+1", now, 30 * sec},
		{"1.", ".5", now, 30 * sec},
		{"1e3", "1e3", now, 30 * sec},
		{"0x10", "0x10", now, 30 * sec},
		{"NaN", "Inf", now, 30 * sec},
		{"١٢", "١٢", now, 30 * sec}, // non-ASCII digits
		{"9223372036854775807", "9223372036854775807", now, 0},
		{"99999999999999999999999999999999", "", now, 0},
		{"", "99999999999999999999999999999999", now, 0},
		{"9223372036854.775807", "9223372036", now, -1},
		{"0.0000001", "0", now, 30 * sec},
		{"", "Fri, 31 Dec 9999 23:59:59 GMT", now, 0},
		{"", "Mon, 01 Jan 0001 00:00:00 GMT", math.MaxInt64, 0},
		{"", "Mon, 01 Jan 0001 00:00:00 GMT", math.MinInt64, 0},
		{"", "Sun, 01 Jun 2025 12:00:10 GMT", math.MinInt64, 1},
		{"12", "", now, 30 * sec},
		{"", "", now, 1},
		{"12\x00", "7\r\n", now, 30 * sec},
	} {
		f.Add(s.ms, s.ra, s.now, s.limit)
	}
	f.Fuzz(func(t *testing.T, ms, ra string, nowNanos, limit int64) {
		h := http.Header{}
		if ms != "" {
			h[wire.HeaderRetryAfterMs] = []string{ms}
		}
		if ra != "" {
			h["Retry-After"] = []string{ra}
		}
		hint, ok := retryAfterHint(h, time.Unix(0, nowNanos))
		if !ok && hint != 0 {
			t.Fatalf("no hint in (%q, %q), yet %v", ms, ra, hint)
		}
		if hint < 0 {
			t.Fatalf("retryAfterHint(%q, %q) = %v, negative", ms, ra, hint)
		}
		// A plain small number of milliseconds is read exactly.
		if n, err := strconv.ParseUint(ms, 10, 64); err == nil && n < 1<<32 {
			if want := time.Duration(n) * time.Millisecond; !ok || hint != want {
				t.Fatalf("x-ms-retry-after-ms %q = %v, want %v", ms, hint, want)
			}
		}

		l := time.Duration(limit)
		c := New(policy.RetryOptions{MaxRetryAfter: l}, nil, nil).Call()
		got := c.clamp(hint)
		switch {
		case l < 0:
			if got != hint {
				t.Fatalf("hint %v with no clamp = %v, want it unchanged", hint, got)
			}
		case l == 0:
			if want := min(hint, 30*time.Second); got != want {
				t.Fatalf("hint %v with the default clamp = %v, want %v", hint, got, want)
			}
		default:
			if want := min(hint, l); got != want {
				t.Fatalf("hint %v with MaxRetryAfter %v = %v, want %v", hint, l, got, want)
			}
		}
	})
}
