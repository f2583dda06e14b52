package cosmostest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// The query language the account runs, a small part of Cosmos DB SQL:
//
//	SELECT * FROM c [WHERE cond]
//	cond:    cond OR cond | cond AND cond | NOT cond | (cond)
//	         | operand op operand          op: = != <> < <= > >=
//	         | operand IN (operand, ...)
//	         | IS_NULL(operand) | IS_DEFINED(operand)
//	operand: c.a.b | c["a"][0] | 'text' | "text" | 12.5 | true | false | null | @param
//
// Keywords are case-insensitive; the alias (c) is any name, and FROM may
// name the collection before it (FROM root c, FROM orders AS o). Logic is
// three-valued as in the service: a comparison that involves a missing
// property or values of different types is undefined, and a document
// matches only when the condition is true.

// A cond is a parsed condition.
type cond interface {
	// eval returns the condition's value for document m; defined is false
	// when it is undefined.
	eval(m map[string]any) (value, defined bool)
}

// An operand is a parsed value: a property path or a constant.
type operand interface {
	value(m map[string]any) (v any, defined bool)
}

type (
	orCond  struct{ l, r cond }
	andCond struct{ l, r cond }
	notCond struct{ c cond }
	cmpCond struct {
		op   string
		l, r operand
	}
	inCond struct {
		x    operand
		list []operand
	}
	funcCond struct {
		name string // IS_NULL or IS_DEFINED
		x    operand
	}
	constant struct{ v any }
	path     []any // property names (string) and array indexes (int)
)

func (c orCond) eval(m map[string]any) (bool, bool) {
	l, ld := c.l.eval(m)
	r, rd := c.r.eval(m)
	if (ld && l) || (rd && r) {
		return true, true
	}
	return false, ld && rd
}

func (c andCond) eval(m map[string]any) (bool, bool) {
	l, ld := c.l.eval(m)
	r, rd := c.r.eval(m)
	if (ld && !l) || (rd && !r) {
		return false, true
	}
	return true, ld && rd
}

func (c notCond) eval(m map[string]any) (bool, bool) {
	v, d := c.c.eval(m)
	return !v, d
}

func (c cmpCond) eval(m map[string]any) (bool, bool) {
	l, ld := c.l.value(m)
	r, rd := c.r.value(m)
	if !ld || !rd {
		return false, false
	}
	if c.op == "=" || c.op == "!=" {
		eq, ok := equalValues(l, r)
		return eq == (c.op == "="), ok
	}
	n, ok := orderValues(l, r)
	switch c.op {
	case "<":
		return n < 0, ok
	case "<=":
		return n <= 0, ok
	case ">":
		return n > 0, ok
	}
	return n >= 0, ok
}

func (c inCond) eval(m map[string]any) (bool, bool) {
	x, ok := c.x.value(m)
	if !ok {
		return false, false
	}
	for _, o := range c.list {
		if v, ok := o.value(m); ok {
			if eq, ok := equalValues(x, v); ok && eq {
				return true, true
			}
		}
	}
	return false, true
}

func (c funcCond) eval(m map[string]any) (bool, bool) {
	v, ok := c.x.value(m)
	if c.name == "IS_DEFINED" {
		return ok, true
	}
	return ok && v == nil, true
}

func (c constant) value(map[string]any) (any, bool) { return c.v, true }

func (p path) value(m map[string]any) (any, bool) {
	var v any = m
	for _, step := range p {
		switch s := step.(type) {
		case string:
			obj, ok := v.(map[string]any)
			if v, ok = obj[s]; !ok {
				return nil, false
			}
		case int:
			arr, ok := v.([]any)
			if !ok || s >= len(arr) {
				return nil, false
			}
			v = arr[s]
		}
	}
	return normalize(v), true
}

// normalize turns a number (a json.Number, or a Go int from a caller)
// into the float64 the service compares.
func normalize(v any) any {
	switch n := v.(type) {
	case json.Number:
		if f, err := n.Float64(); err == nil {
			return f
		}
	case int:
		return float64(n)
	case int64:
		return float64(n)
	}
	return v
}

// equalValues compares two JSON values; ok is false when their types
// differ, which makes the comparison undefined.
func equalValues(a, b any) (eq, ok bool) {
	a, b = normalize(a), normalize(b)
	switch x := a.(type) {
	case nil:
		return b == nil, b == nil
	case bool, float64, string:
		if fmt.Sprintf("%T", a) != fmt.Sprintf("%T", b) {
			return false, false
		}
		return a == b, true
	case []any:
		y, ok := b.([]any)
		if !ok {
			return false, false
		}
		if len(x) != len(y) {
			return false, true
		}
		for i := range x {
			if eq, ok := equalValues(x[i], y[i]); !ok || !eq {
				return false, true
			}
		}
		return true, true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false, false
		}
		if len(x) != len(y) {
			return false, true
		}
		for k, xv := range x {
			yv, found := y[k]
			if eq, ok := equalValues(xv, yv); !found || !ok || !eq {
				return false, true
			}
		}
		return true, true
	}
	return false, false
}

// orderValues orders two numbers, two strings or two booleans; ok is false
// for any other pair.
func orderValues(a, b any) (n int, ok bool) {
	switch x := normalize(a).(type) {
	case float64:
		if y, ok := normalize(b).(float64); ok {
			return compareOrdered(x, y), true
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true
		}
	case bool:
		if y, ok := b.(bool); ok {
			return compareOrdered(boolRank(x), boolRank(y)), true
		}
	}
	return 0, false
}

func compareOrdered[T float64 | int](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A queryError says why a query cannot run; it is answered with 400.
type queryError struct {
	pos int
	msg string
}

func (e *queryError) Error() string {
	return fmt.Sprintf("cosmostest: unsupported query (at character %d: %s). cosmostest runs SELECT * FROM c "+
		"[WHERE ...] with =, !=, <, <=, >, >=, IN, IS_NULL, IS_DEFINED, NOT, AND, OR and @parameters", e.pos+1, e.msg)
}

type token struct {
	kind byte // 'i' identifier or keyword, '@' parameter, 's' string, 'n' number, 'p' punctuation, 0 end
	text string
	pos  int
}

// lex splits a query into tokens.
func lex(q string) ([]token, error) {
	var toks []token
	for i := 0; i < len(q); {
		c := q[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '_' || c == '@' || unicode.IsLetter(rune(c)):
			for i++; i < len(q) && (q[i] == '_' || unicode.IsLetter(rune(q[i])) || unicode.IsDigit(rune(q[i]))); i++ {
			}
			kind := byte('i')
			if c == '@' {
				kind = '@'
			}
			toks = append(toks, token{kind, q[start:i], start})
		case c == '\'' || c == '"':
			s, n, err := lexString(q[i:])
			if err != nil {
				return nil, &queryError{start, err.Error()}
			}
			i += n
			toks = append(toks, token{'s', s, start})
		case unicode.IsDigit(rune(c)) || (c == '-' && i+1 < len(q) && unicode.IsDigit(rune(q[i+1]))):
			for i++; i < len(q) && strings.IndexByte("0123456789.eE+-", q[i]) >= 0; i++ {
				if (q[i] == '+' || q[i] == '-') && q[i-1] != 'e' && q[i-1] != 'E' {
					break
				}
			}
			toks = append(toks, token{'n', q[start:i], start})
		case strings.HasPrefix(q[i:], "!=") || strings.HasPrefix(q[i:], "<>") ||
			strings.HasPrefix(q[i:], "<=") || strings.HasPrefix(q[i:], ">="):
			i += 2
			toks = append(toks, token{'p', q[start:i], start})
		case strings.IndexByte("*,.()[]=<>", c) >= 0:
			i++
			toks = append(toks, token{'p', q[start:i], start})
		default:
			return nil, &queryError{start, fmt.Sprintf("unexpected character %q", c)}
		}
	}
	return append(toks, token{pos: len(q)}), nil
}

// lexString reads the quoted string at the start of s, with JSON's escapes
// (and \' in single-quoted strings), and returns it and its length in s.
func lexString(s string) (string, int, error) {
	quote := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == quote:
			return b.String(), i + 1, nil
		case c == '\\' && i+1 < len(s):
			i++
			if e := s[i]; e == '\'' || e == '"' || e == '\\' || e == '/' {
				b.WriteByte(e)
				continue
			}
			var r string
			n := 1
			if s[i] == 'u' && i+4 < len(s) {
				n = 5
			}
			if err := json.Unmarshal([]byte(`"\`+s[i:i+n]+`"`), &r); err != nil {
				return "", 0, fmt.Errorf("bad escape in a string")
			}
			b.WriteString(r)
			i += n - 1
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}

// parseNumber parses a number token.
func parseNumber(t token) (any, error) {
	f, err := strconv.ParseFloat(t.text, 64)
	if err != nil {
		return nil, &queryError{t.pos, "bad number " + t.text}
	}
	return f, nil
}
