package decide

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// retryAfterHint returns how long the service asks the client to wait
// before trying again, not clamped, and whether it asks at all.
//
// The hint is x-ms-retry-after-ms (milliseconds, an integer or a decimal
// such as "12.5") if that header is present and well formed, else
// Retry-After, as delta-seconds or an HTTP date in any of the three formats
// http.ParseTime accepts (a date is measured from now). A negative hint or
// a date in the past gives 0; a malformed header is ignored as if absent;
// a hint too long for a time.Duration gives the largest one. The
// arithmetic never overflows.
func retryAfterHint(h http.Header, now time.Time) (time.Duration, bool) {
	if h == nil {
		return 0, false
	}
	if d, ok := retryAfterMs(h); ok {
		return d, true
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if d, ok := parseSeconds(v); ok {
		return d, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// retryAfterMs returns the x-ms-retry-after-ms hint, not clamped, and
// whether there was a well-formed one.
func retryAfterMs(h http.Header) (time.Duration, bool) {
	return parseMillis(strings.TrimSpace(h.Get(wire.HeaderRetryAfterMs)))
}

// parseMillis parses [-]digits[.digits] as milliseconds, saturating at the
// largest time.Duration.
func parseMillis(v string) (time.Duration, bool) {
	neg, digits := cutMinus(v)
	intPart, frac, hasDot := strings.Cut(digits, ".")
	if !allDigits(intPart) || (hasDot && !allDigits(frac)) {
		return 0, false
	}
	if neg {
		return 0, true
	}
	// The syntax is checked above, so the only possible error is a range
	// error on an absurdly long number, for which f is +Inf.
	f, _ := strconv.ParseFloat(digits, 64)
	ns := f * float64(time.Millisecond)
	if ns >= math.MaxInt64 {
		return math.MaxInt64, true
	}
	return time.Duration(ns), true
}

// parseSeconds parses [-]digits as seconds, saturating at the largest
// time.Duration.
func parseSeconds(v string) (time.Duration, bool) {
	neg, digits := cutMinus(v)
	if !allDigits(digits) {
		return 0, false
	}
	if neg {
		return 0, true
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || n > math.MaxInt64/uint64(time.Second) {
		return math.MaxInt64, true
	}
	return time.Duration(n) * time.Second, true
}

func cutMinus(v string) (neg bool, rest string) {
	if rest, ok := strings.CutPrefix(v, "-"); ok {
		return true, rest
	}
	return false, v
}

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MetadataRetryAfter returns how long to wait before reading metadata
// again after a 429 whose headers are h: the server's hint, clamped to
// 30 s, else def.
func MetadataRetryAfter(h http.Header, now time.Time, def time.Duration) time.Duration {
	if d, ok := retryAfterHint(h, now); ok {
		return min(max(d, 0), 30*time.Second)
	}
	return def
}

// RetryAfter returns the service's hint of how long to wait before trying
// again (see retryAfterHint), at most a minute, and whether it gave one.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	d, ok := retryAfterHint(h, now)
	return min(d, time.Minute), ok
}
