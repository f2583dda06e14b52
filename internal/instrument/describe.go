package instrument

import (
	"slices"
	"strconv"
	"strings"
)

// describe returns err saying how many attempts the call made and the
// regions they went to, in first-contact order:
//
//	transport: waiting 1s to retry after unavailable: context deadline exceeded (after 3 attempts: East US, North Europe)
//
// errors.Is and errors.As see err through it, and error.type is found as
// for err. The regions are names, or hosts where a name is unknown: never
// a URL's query, a header or a key. describe returns err itself when err
// is nil, when the call made no attempt, when err is already described,
// and on a nil Call: a call is described only when something records it
// (a tracer, a meter, a Diagnostics or a Logger), as that is when its attempts are
// counted.
func (c *Call) describe(err error) error {
	if c == nil || err == nil {
		return err
	}
	if _, ok := err.(*attemptsError); ok {
		return err
	}
	c.mu.Lock()
	n, regions := c.attempts, slices.Clone(c.regions)
	c.mu.Unlock()
	if n == 0 {
		return err
	}
	return &attemptsError{err: err, attempts: n, regions: regions}
}

// attemptsError is an error of a call with the attempts it took.
type attemptsError struct {
	err      error
	attempts int
	regions  []string
}

func (e *attemptsError) Error() string {
	var b strings.Builder
	b.WriteString(e.err.Error())
	b.WriteString(" (after ")
	b.WriteString(strconv.Itoa(e.attempts))
	if e.attempts == 1 {
		b.WriteString(" attempt")
	} else {
		b.WriteString(" attempts")
	}
	if len(e.regions) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.regions, ", "))
	}
	b.WriteByte(')')
	return b.String()
}

func (e *attemptsError) Unwrap() error { return e.err }
