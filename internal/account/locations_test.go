package account

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testAccount builds an Account whose regions are named by their endpoint's
// first label: region "A" is https://contoso-a.documents.azure.com/.
func testAccount(t testing.TB, write []string, read []string) *Account {
	t.Helper()
	loc := func(names []string) []Location {
		var out []Location
		for _, n := range names {
			out = append(out, Location{Name: n, Endpoint: regionURL(t, n)})
		}
		return out
	}
	return &Account{ID: "contoso", Write: loc(write), Read: loc(read)}
}

func regionURL(t testing.TB, name string) *url.URL {
	return mustURL(t, "https://contoso-"+url.PathEscape(lowerASCII(name))+".documents.azure.com/")
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		} else if c == ' ' {
			b[i] = '-'
		}
	}
	return string(b)
}

// hosts returns the first label of each endpoint's host.
func hosts(us []*url.URL) []string {
	out := []string{}
	for _, u := range us {
		h := u.Hostname()
		h = h[len("contoso-"):]
		for i := range len(h) {
			if h[i] == '.' {
				h = h[:i]
				break
			}
		}
		out = append(out, h)
	}
	return out
}

func TestReadOrderFollowsPreferredRegions(t *testing.T) {
	read := []string{"West US 2", "East US", "North Europe", "Japan East"}
	tests := []struct {
		preferred []string
		want      []string
	}{
		{nil, []string{"west-us-2", "east-us", "north-europe", "japan-east"}},
		{[]string{"East US"}, []string{"east-us", "west-us-2", "north-europe", "japan-east"}},
		{[]string{"japan east", " NORTH EUROPE ", "Mars"}, []string{"japan-east", "north-europe", "west-us-2", "east-us"}},
		{[]string{"", "Mars"}, []string{"west-us-2", "east-us", "north-europe", "japan-east"}},
		{[]string{"East US", "East US", "West US 2"}, []string{"east-us", "west-us-2", "north-europe", "japan-east"}},
	}
	for _, tt := range tests {
		c := newLocationCache(tt.preferred, time.Minute)
		c.update(testAccount(t, []string{"West US 2"}, read), testNow)
		assert.Equal(t, tt.want, hosts(c.routes(testNow).read), "preferred %q", tt.preferred)
		// Writes keep the account's order whatever the preference.
		assert.Equal(t, []string{"west-us-2"}, hosts(c.routes(testNow).write))
	}
}

func TestReadsFallBackToWritableLocations(t *testing.T) {
	c := newLocationCache([]string{"B"}, time.Minute)
	c.update(testAccount(t, []string{"A", "B"}, nil), testNow)
	assert.Equal(t, []string{"b", "a"}, hosts(c.routes(testNow).read))
}

func TestNothingBeforeTheFirstAccount(t *testing.T) {
	c := newLocationCache(nil, time.Minute)
	r := c.routes(testNow)
	assert.Nil(t, r.account)
	assert.Empty(t, r.read)
	assert.Empty(t, r.write)
	c.mark(regionURL(t, "A"), true, testNow) // ignored: unknown endpoint
	assert.Empty(t, c.marks)
}

func TestReadMarksMoveEndpointsToTheEndUntilTheyExpire(t *testing.T) {
	const ttl = 5 * time.Minute
	c := newLocationCache([]string{"B", "A"}, ttl)
	c.update(testAccount(t, []string{"A"}, []string{"A", "B", "C"}), testNow)
	require.Equal(t, []string{"b", "a", "c"}, hosts(c.routes(testNow).read))

	c.mark(regionURL(t, "B"), false, testNow)
	c.mark(regionURL(t, "A"), false, testNow.Add(time.Minute))
	assert.Equal(t, []string{"c", "b", "a"}, hosts(c.routes(testNow.Add(time.Minute)).read))
	// Read marks leave writes alone.
	assert.Equal(t, []string{"a"}, hosts(c.routes(testNow.Add(time.Minute)).write))

	assert.Equal(t, []string{"c", "b", "a"}, hosts(c.routes(testNow.Add(ttl-time.Nanosecond)).read))
	assert.Equal(t, []string{"b", "c", "a"}, hosts(c.routes(testNow.Add(ttl)).read), "B's mark expired")
	assert.Equal(t, []string{"b", "a", "c"}, hosts(c.routes(testNow.Add(ttl+time.Minute)).read), "A's mark expired")
	assert.Empty(t, c.marks, "expired marks are forgotten")
}

func TestWriteMarksPickTheNextWritableLocation(t *testing.T) {
	c := newLocationCache(nil, time.Minute)
	c.update(testAccount(t, []string{"A", "B", "C"}, []string{"A"}), testNow)
	c.mark(regionURL(t, "A"), true, testNow)
	assert.Equal(t, []string{"b", "c", "a"}, hosts(c.routes(testNow).write))
	assert.Equal(t, []string{"a"}, hosts(c.routes(testNow).read), "write marks leave reads alone")

	c.mark(regionURL(t, "B"), true, testNow)
	c.mark(regionURL(t, "C"), true, testNow)
	assert.Equal(t, []string{"a", "b", "c"}, hosts(c.routes(testNow).write), "all marked: account order")

	// Marking again extends the mark.
	c.mark(regionURL(t, "A"), true, testNow.Add(50*time.Second))
	assert.Equal(t, []string{"b", "c", "a"}, hosts(c.routes(testNow.Add(time.Minute)).write))
	assert.Equal(t, []string{"a", "b", "c"}, hosts(c.routes(testNow.Add(2*time.Minute)).write))
}

func TestMarksMatchEndpointsCanonically(t *testing.T) {
	c := newLocationCache(nil, time.Minute)
	c.update(testAccount(t, []string{"A", "B"}, nil), testNow)
	c.mark(mustURL(t, "https://CONTOSO-A.documents.azure.com:443/dbs/d"), true, testNow)
	assert.Equal(t, []string{"b", "a"}, hosts(c.routes(testNow).write))
	c.mark(mustURL(t, "https://contoso-b.documents.azure.com:444/"), true, testNow) // another port: not B
	assert.Equal(t, []string{"b", "a"}, hosts(c.routes(testNow).write))
}

func TestMarksSurviveRefreshesOfTheSameEndpoint(t *testing.T) {
	c := newLocationCache(nil, time.Minute)
	c.update(testAccount(t, []string{"A", "B"}, nil), testNow)
	c.mark(regionURL(t, "A"), true, testNow)
	c.update(testAccount(t, []string{"A", "B"}, nil), testNow.Add(time.Second))
	assert.Equal(t, []string{"b", "a"}, hosts(c.routes(testNow.Add(time.Second)).write))

	// An endpoint that leaves the account loses its mark.
	c.update(testAccount(t, []string{"B"}, nil), testNow.Add(2*time.Second))
	c.update(testAccount(t, []string{"A", "B"}, nil), testNow.Add(3*time.Second))
	assert.Equal(t, []string{"a", "b"}, hosts(c.routes(testNow.Add(3*time.Second)).write))
}

func TestNegativeTTLDisablesMarks(t *testing.T) {
	c := newLocationCache(nil, -1)
	c.update(testAccount(t, []string{"A", "B"}, nil), testNow)
	c.mark(regionURL(t, "A"), true, testNow)
	assert.Equal(t, []string{"a", "b"}, hosts(c.routes(testNow).write))
}

func TestRoutesAreSharedUntilSomethingChanges(t *testing.T) {
	c := newLocationCache(nil, time.Minute)
	c.update(testAccount(t, []string{"A"}, []string{"A", "B"}), testNow)
	r1 := c.routes(testNow)
	r2 := c.routes(testNow.Add(time.Hour))
	assert.Same(t, r1, r2, "no marks: nothing rebuilt")

	c.mark(regionURL(t, "A"), false, testNow)
	r3 := c.routes(testNow.Add(time.Second))
	assert.NotSame(t, r1, r3)
	assert.Same(t, r3, c.routes(testNow.Add(2*time.Second)), "unexpired marks: nothing rebuilt")
}

func TestWriteOrder(t *testing.T) {
	write := []string{"A", "B", "C"}
	tests := []struct {
		name      string
		multi     bool
		preferred []string
		marked    []string // marked unavailable for writes
		want      []string
	}{
		{"single-write: account order", false, nil, nil, []string{"a", "b", "c"}},
		{"single-write ignores preferences", false, []string{"C", "B"}, nil, []string{"a", "b", "c"}},
		{"single-write: marked last", false, []string{"C"}, []string{"A"}, []string{"b", "c", "a"}},
		{"multi-write: account order without preferences", true, nil, nil, []string{"a", "b", "c"}},
		{"multi-write: preferred first, in order", true, []string{"c", "Mars", "B"}, nil, []string{"c", "b", "a"}},
		{"multi-write: marked last", true, []string{"C", "B"}, []string{"C"}, []string{"b", "a", "c"}},
		{"multi-write: all marked keep the preferred order", true, []string{"C", "B"}, []string{"A", "B", "C"}, []string{"c", "b", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newLocationCache(tt.preferred, time.Minute)
			a := testAccount(t, write, []string{"A"})
			a.MultipleWriteLocations = tt.multi
			c.update(a, testNow)
			for _, m := range tt.marked {
				c.mark(regionURL(t, m), true, testNow)
			}
			assert.Equal(t, tt.want, hosts(c.routes(testNow).write))
			assert.Equal(t, []string{"a"}, hosts(c.routes(testNow).read), "write marks leave reads alone")
		})
	}
}
