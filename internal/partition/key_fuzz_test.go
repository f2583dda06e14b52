package partition

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"unicode/utf8"
)

// FuzzParseKey checks the header parser on arbitrary input: it never
// panics; what it accepts, encoding/json reads as the same values; what it
// accepts survives a round trip through formatKey; and every array of at
// most 8 scalars and empty objects that encoding/json reads from valid
// UTF-8, it accepts too.
func FuzzParseKey(f *testing.F) {
	for _, h := range []string{
		`["eu"]`, `[42]`, `[true]`, `[false]`, `[null]`, `[{}]`, `[]`, `["a","b"]`, `["a"]`, ` [ "a" , 1.5e-3 ] `,
		`["caf\u00e9"]`, `["\ud83d\ude00"]`, `["\ud800"]`, `["\ud800\u0041"]`, `[-0]`, `[1e400]`, `[01]`,
		`[{"a":1}]`, `[[1]]`, `["\U0001F600"]`, "[\"\xff\"]", `[1,2,3,4,5,6,7,8,9]`, `["a\"b"]`, `[`,
	} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got, err := values(t, h)
		var std []any
		stdErr := json.Unmarshal([]byte(h), &std)
		if stdErr == nil && std == nil {
			stdErr = errNotArray // encoding/json reads null into a slice without complaint
		}
		if err != nil {
			if stdErr == nil && utf8.ValidString(h) && len(std) <= MaxComponents && scalars(std) {
				t.Fatalf("parseKey(%q) = %v; encoding/json reads %#v", h, err, std)
			}
			return
		}
		if stdErr != nil {
			t.Fatalf("parseKey(%q) = %#v; encoding/json fails: %v", h, got, stdErr)
		}
		if !same(got, std) {
			t.Fatalf("parseKey(%q) = %#v; encoding/json reads %#v", h, got, std)
		}
		again, err := values(t, formatKey(got))
		if err != nil || !same(again, got) {
			t.Fatalf("parseKey(%q) = %#v; formatted as %q it reads %#v, %v", h, got, formatKey(got), again, err)
		}
	})
}

var errNotArray = errors.New("not an array")

// scalars reports whether vals holds only what a header may: strings,
// numbers, booleans, null and empty objects.
func scalars(vals []any) bool {
	for _, v := range vals {
		switch v := v.(type) {
		case string, float64, bool, nil:
		case map[string]any:
			if len(v) != 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// same compares parsed values with encoding/json's, or with each other:
// numbers by their bits (so -0 is not 0), an empty object as undefined.
func same(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if m, ok := y.(map[string]any); ok && len(m) == 0 {
			y = undefined{}
		}
		if xf, ok := x.(float64); ok {
			yf, ok := y.(float64)
			if !ok || math.Float64bits(xf) != math.Float64bits(yf) {
				return false
			}
			continue
		}
		if x != y {
			return false
		}
	}
	return true
}
