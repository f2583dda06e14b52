package account

import (
	"sync"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// maxHedgeHosts bounds the regions whose hedge losses are counted; an
// account has a handful.
const maxHedgeHosts = 256

// hedgeLosses counts, per region endpoint, the hedged reads it lost in a
// row. It is safe for concurrent use.
type hedgeLosses struct {
	mu     sync.Mutex            // guards byHost
	byHost map[wire.Endpoint]int // losses in a row, per endpoint
}

// lost records a loss of the endpoint host and reports whether host has now lost
// demoteAfter in a row, which restarts its count.
func (h *hedgeLosses) lost(host wire.Endpoint, demoteAfter int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byHost == nil || len(h.byHost) >= maxHedgeHosts {
		h.byHost = make(map[wire.Endpoint]int)
	}
	h.byHost[host]++
	if h.byHost[host] < demoteAfter {
		return false
	}
	delete(h.byHost, host)
	return true
}

// won records that host answered a hedged read first.
func (h *hedgeLosses) won(host wire.Endpoint) {
	h.mu.Lock()
	delete(h.byHost, host)
	h.mu.Unlock()
}
