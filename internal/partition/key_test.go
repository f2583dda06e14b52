package partition

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// value is a parsed component in a form tests compare: a string, a
// float64, true, false, nil or undefined{}.
type undefined struct{}

func values(t testing.TB, h string) ([]any, error) {
	var k key
	buf, err := parseKey(h, &k, nil)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for i := range k.comps[:k.n] {
		c := &k.comps[i]
		switch c.marker {
		case markerString:
			out = append(out, string(c.str(buf)))
		case markerNumber:
			out = append(out, c.num)
		case markerTrue:
			out = append(out, true)
		case markerFalse:
			out = append(out, false)
		case markerNull:
			out = append(out, nil)
		case markerUndefined:
			out = append(out, undefined{})
		default:
			t.Fatalf("component %d of %q has marker %#x", i, h, c.marker)
		}
	}
	return out, nil
}

// formatKey writes values as a header, canonically: strings escape only
// what JSON requires, numbers in Go's shortest form.
func formatKey(vals []any) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		switch v := v.(type) {
		case string:
			b.WriteByte('"')
			for _, r := range v {
				switch {
				case r == '"' || r == '\\':
					b.WriteByte('\\')
					b.WriteRune(r)
				case r < 0x20:
					b.WriteString(`\u00`)
					b.WriteString(strconv.FormatInt(int64(r)>>4, 16) + strconv.FormatInt(int64(r)&15, 16))
				default:
					b.WriteRune(r)
				}
			}
			b.WriteByte('"')
		case float64:
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		case bool:
			b.WriteString(strconv.FormatBool(v))
		case nil:
			b.WriteString("null")
		case undefined:
			b.WriteString("{}")
		}
	}
	b.WriteByte(']')
	return b.String()
}

func TestParseKeyReadsJSONArraysOfScalars(t *testing.T) {
	for _, tt := range []struct {
		h    string
		want []any
	}{
		{`["eu"]`, []any{"eu"}},
		{`[42]`, []any{42.0}},
		{`[-0.5e+3]`, []any{-500.0}},
		{`[1E2]`, []any{100.0}},
		{`[true]`, []any{true}},
		{`[false]`, []any{false}},
		{`[null]`, []any{nil}},
		{`[{}]`, []any{undefined{}}},
		{"[ {\t} ]", []any{undefined{}}},
		{`[]`, []any{}},
		{" [ \"a\" ,\r\n\"b\" ] \n", []any{"a", "b"}},
		{`["a",1,true,null,{}]`, []any{"a", 1.0, true, nil, undefined{}}},
		{`["é"]`, []any{"é"}},
		{`["q\"b\\s\/n\n\t\r\b\f"]`, []any{"q\"b\\s/n\n\t\r\b\f"}},
		{`["caf\u00e9 \u00E9"]`, []any{"café é"}},
		{`["\ud83d\ude00"]`, []any{"😀"}},
		{`["\ud800"]`, []any{"\uFFFD"}},
		{`["\ud800\u0041"]`, []any{"\uFFFDA"}},
		{`["\udc00\ud800"]`, []any{"\uFFFD\uFFFD"}},
		{`["\u0000"]`, []any{"\x00"}},
		{`[1,2,3,4,5,6,7,8]`, []any{1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0}},
	} {
		got, err := values(t, tt.h)
		if assert.NoError(t, err, tt.h) {
			assert.Equal(t, tt.want, got, tt.h)
		}
	}
	got, err := values(t, `[-0]`)
	require.NoError(t, err)
	assert.True(t, math.Signbit(got[0].(float64)), "-0 keeps its sign: the baselines hash it apart from 0")
}

func TestParseKeyRejectsAnythingElse(t *testing.T) {
	for _, h := range []string{
		``, ` `, `[`, `]`, `[,]`, `["a",]`, `[,"a"]`, `["a" "b"]`, `["a"]x`, `["a"],`, `[]]`, `{}`, `"a"`, `1`,
		`[01]`, `[1.]`, `[.5]`, `[+1]`, `[1e]`, `[1e+]`, `[-]`, `[0x10]`, `[1e400]`, `[-1e400]`, `[NaN]`, `[Infinity]`,
		`[tru]`, `[True]`, `[nul]`, `[nulll]`, `[falsey]`,
		`[{"a":1}]`, `[{]`, `[{}}]`, `[[]]`, `[["a"]]`,
		`["a]`, `["\x"]`, `["\u12"]`, `["\u12g4"]`, `["\"]`, `["\a"]`, `["\U0001F600"]`,
		"[\"\x01\"]", "[\"a\nb\"]", "[\"\xff\"]", "[\"\xc3\"]",
		`[1,2,3,4,5,6,7,8,9]`,
	} {
		_, err := values(t, h)
		assert.Error(t, err, "%q", h)
	}
}

func TestParseKeyDoesNotAllocate(t *testing.T) {
	for _, h := range []string{`["eu"]`, `[42]`, `["caf\u00e9","b",{}]`} {
		allocs := testing.AllocsPerRun(100, func() {
			var k key
			var sbuf [128]byte
			if _, err := parseKey(h, &k, sbuf[:0]); err != nil {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, h)
	}
}

func TestFormatKeyRoundTrips(t *testing.T) {
	for _, vals := range [][]any{
		{"eu"}, {"a\"b\\c\x01\u2028é😀"}, {1.5, -0.0, 1e300, 5e-324}, {true, false, nil, undefined{}}, {},
	} {
		got, err := values(t, formatKey(vals))
		require.NoError(t, err, formatKey(vals))
		assert.Equal(t, vals, got)
	}
	assert.True(t, utf8.ValidString(formatKey([]any{"é"})))
}
