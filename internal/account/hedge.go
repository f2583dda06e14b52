package account

import "sync"

// maxHedgeHosts bounds the regions whose hedge losses are counted; an
// account has a handful.
const maxHedgeHosts = 256

// hedgeLosses counts, per region endpoint, the hedged reads it lost in a
// row. It is safe for concurrent use.
type hedgeLosses struct {
	mu     sync.Mutex     // guards byHost
	byHost map[string]int // host → losses in a row
}

// lost records a loss of host and reports whether host has now lost
// demoteAfter in a row, which restarts its count.
func (h *hedgeLosses) lost(host string, demoteAfter int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byHost == nil || len(h.byHost) >= maxHedgeHosts {
		h.byHost = make(map[string]int)
	}
	h.byHost[host]++
	if h.byHost[host] < demoteAfter {
		return false
	}
	delete(h.byHost, host)
	return true
}

// won records that host answered a hedged read first.
func (h *hedgeLosses) won(host string) {
	h.mu.Lock()
	delete(h.byHost, host)
	h.mu.Unlock()
}
