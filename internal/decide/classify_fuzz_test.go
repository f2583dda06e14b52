package decide

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// FuzzClassify checks classify and wire.SubStatus on arbitrary status codes
// and x-ms-substatus values: a 2xx is always OK, a response alone never
// gives a transport outcome, the outcome depends on the header only
// through wire.SubStatus, and an error always wins over the response.
func FuzzClassify(f *testing.F) {
	for _, s := range []struct {
		status int
		sub    string
	}{
		{200, ""}, {201, "0"}, {204, ""}, {299, "3"}, {304, ""},
		{403, "3"}, {403, "1008"}, {403, "5"}, {404, "1002"}, {404, "0"},
		{408, ""}, {429, "3200"}, {449, ""}, {500, ""}, {503, "20001"},
		{400, "1001"}, {412, ""}, {199, ""}, {300, ""}, {600, "3"},
		{0, ""}, {-200, "3"}, {1 << 31, "1008"}, {-1 << 31, ""},
		{403, " 3 "}, {403, "+3"}, {403, "03"}, {403, "-3"}, {403, "3.0"},
		{403, "0x3"}, {404, "1002\x00"}, {403, "99999999999999999999"},
		{403, "-9223372036854775808"}, {403, "٣"}, {403, "\t1008\r\n"},
	} {
		f.Add(s.status, s.sub)
	}
	f.Fuzz(func(t *testing.T, status int, sub string) {
		h := http.Header{}
		if sub != "" {
			h[wire.HeaderSubStatus] = []string{sub}
		}
		resp := &http.Response{StatusCode: status, Header: h}

		n := wire.SubStatus(h)
		if n < 0 {
			t.Fatalf("SubStatus(%q) = %d, negative", sub, n)
		}
		if v, err := strconv.Atoi(strings.TrimSpace(sub)); err == nil && v >= 0 && n != v {
			t.Fatalf("SubStatus(%q) = %d, want %d", sub, n, v)
		}

		got := classify(resp, nil)
		if got.String() == "unknown" {
			t.Fatalf("classify(%d, %q) = %d, not an Outcome", status, sub, got)
		}
		switch got {
		case NeverSent, Ambiguous, canceled, circuitOpen:
			t.Fatalf("classify(%d, %q) = %v for a response", status, sub, got)
		}
		if status >= 200 && status <= 299 && got != OK {
			t.Fatalf("classify(%d, %q) = %v, want ok", status, sub, got)
		}
		canon := &http.Response{StatusCode: status, Header: http.Header{}}
		canon.Header.Set(wire.HeaderSubStatus, strconv.Itoa(n))
		if again := classify(canon, nil); again != got {
			t.Fatalf("classify(%d, %q) = %v but %v with substatus %d", status, sub, got, again, n)
		}
		if got := classify(resp, context.Canceled); got != canceled {
			t.Fatalf("classify(%d, %q, context.Canceled) = %v, want canceled", status, sub, got)
		}
	})
}
