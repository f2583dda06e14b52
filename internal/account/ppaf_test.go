package account

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A range's region is remembered where its write succeeded, forgotten
// when a write succeeds in the write region again, and five minutes after
// its last write there.
func TestRangeMovesRememberAndForget(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	m := newRangeMoves(10, c.now)
	m.wrote("dbs/d/colls/c", "1", "west", true)
	assert.False(t, m.any(), "a write at home is nothing to remember")

	m.wrote("dbs/d/colls/c", "1", "east", false)
	host, ok := m.regionOf("dbs/d/colls/c", "1")
	assert.True(t, ok)
	assert.Equal(t, "east", host)
	_, ok = m.regionOf("dbs/d/colls/c", "0")
	assert.False(t, ok, "another range")
	_, ok = m.regionOf("dbs/d/colls/other", "1")
	assert.False(t, ok, "another container")

	m.wrote("dbs/d/colls/c", "1", "west", true)
	_, ok = m.regionOf("dbs/d/colls/c", "1")
	assert.False(t, ok, "home again")
	assert.False(t, m.any())

	m.wrote("dbs/d/colls/c", "1", "east", false)
	c.t = c.t.Add(4 * time.Minute)
	m.wrote("dbs/d/colls/c", "1", "east", false)
	c.t = c.t.Add(4 * time.Minute)
	_, ok = m.regionOf("dbs/d/colls/c", "1")
	assert.True(t, ok, "each write there keeps it")
	c.t = c.t.Add(time.Minute + time.Nanosecond)
	_, ok = m.regionOf("dbs/d/colls/c", "1")
	assert.False(t, ok, "forgotten five minutes after its last write")
	assert.False(t, m.any())
}

// The ranges remembered are bounded: the least recently used go first.
func TestRangeMovesAreBounded(t *testing.T) {
	c := &clock{time.Unix(0, 0)}
	m := newRangeMoves(3, c.now)
	for i := range 3 {
		m.wrote("dbs/d/colls/c", fmt.Sprint(i), "east", false)
	}
	m.regionOf("dbs/d/colls/c", "0") // used: "1" is now the least recently used
	m.wrote("dbs/d/colls/c", "3", "east", false)
	assert.Len(t, m.entries, 3)
	for id, kept := range map[string]bool{"0": true, "1": false, "2": true, "3": true} {
		_, ok := m.regionOf("dbs/d/colls/c", id)
		assert.Equal(t, kept, ok, "range %s", id)
	}
}

// What a remembered range costs, measured at 100 000 ranges.
func TestRangeMovesMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 100 000 entries")
	}
	c := &clock{time.Unix(0, 0)}
	m := newRangeMoves(100_000, c.now)
	ids := make([]string, 100_000)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, id := range ids {
		m.wrote("dbs/d/colls/c", id, "contoso-eastus.documents.azure.com:443", false)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	assert.Len(t, m.entries, 100_000)
	t.Logf("%d bytes per remembered range", (after.HeapAlloc-before.HeapAlloc)/100_000)
}
