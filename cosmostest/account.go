package cosmostest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/account"
	"github.com/cosmosrt/cosmosrt/internal/wire"
	"github.com/cosmosrt/cosmosrt/region"
)

// Global names the account's global endpoint wherever a method takes an
// endpoint name (Inject, ClearFaults, Chaos, Requests) and in Entry.Region.
// It cannot be used as a region name.
const Global = "global"

// DefaultKey is the master key of an Account whose Options.Key is empty.
// It is a fixed, public test value, not a secret.
const DefaultKey = "Y29zbW9zdGVzdCBmaXhlZCBtYXN0ZXIga2V5OiBhIHB1YmxpYyB0ZXN0IHZhbHVlLCBub3QgYSBzZWNyZXQhIQ=="

// defaultRegions are the regions of an Account whose Options.Regions is empty.
var defaultRegions = [...]string{"West US 2", "East US", "North Europe"}

// Options configures NewAccount. The zero value is a valid configuration.
type Options struct {
	// Regions names the regional endpoints in the account's failover
	// priority order. Names must be distinct, non-empty and not Global.
	// Default: "West US 2", "East US", "North Europe".
	Regions []string

	// WriteRegion is the initial write region (in a multi-write account,
	// the hub region); it must be one of Regions. Default: the first region.
	WriteRegion string

	// MultipleWriteLocations makes the account multi-write, as an account
	// with multi-region writes enabled: its DatabaseAccount document says
	// enableMultipleWriteLocations and lists every region as writable, the
	// hub (the write region) first. Every region then accepts a write that
	// carries x-ms-cosmos-allow-tentative-writes: true; a write without it
	// is accepted only by the hub, and refused elsewhere with 403 and
	// substatus 3, as the service refuses it in a satellite region.
	// Default: false, a single-write account.
	MultipleWriteLocations bool

	// PerPartitionFailover makes the DatabaseAccount document say
	// "enablePerPartitionFailoverBehavior": true, as the document of an
	// account with per-partition automatic failover does, so that clients
	// may move one partition's writes to another region after a 403 with
	// substatus 3 or a 503 for that partition, and lets
	// Account.FailoverRange move one partition key range's writes to
	// another region. Until it does, writes are accepted where WriteRegion
	// says, for every partition alike.
	// Default: false; the document then says false.
	PerPartitionFailover bool

	// Key is the base64 master key requests must be signed with.
	// Default: DefaultKey.
	Key string

	// Now is the account's clock. It judges the freshness of x-ms-date,
	// stamps documents' _ts and Entry.Time, and fills the budgets of
	// provisioned throughput (see "Throughput" in the package
	// documentation), so that a test with a fake clock decides when they
	// refill. Default: time.Now.
	Now func() time.Time

	// AccountID is the id of the DatabaseAccount document.
	// Default: "cosmostest".
	AccountID string

	// Serverless makes the account serverless, as one created with the
	// EnableServerless capability: nothing in it has provisioned
	// throughput, so nothing is ever refused for throughput. As the
	// service does, it answers 400 to a request that creates a database or
	// container with x-ms-offer-throughput or
	// x-ms-cosmos-offer-autopilot-settings, and to every request for
	// offers, saying "Reading or replacing offers is not supported for
	// serverless accounts."; SetThroughput fails.
	// Default: false, an account with provisioned throughput.
	Serverless bool

	// InitialRanges is how many partition key ranges a container starts
	// with: "0" to "n-1", equal slices of the space of effective partition
	// keys, each with throughput fraction 1/n (see "Partition key ranges"
	// in the package documentation). Negative values are invalid.
	// Default: 2, split at EPK 20.
	InitialRanges int

	// LogLimit is how many entries the request log keeps; beyond it the
	// oldest entries go first (Account.LogEvicted counts them), so that a
	// long load test does not grow without bound.
	// Default: DefaultLogLimit; negative keeps every entry.
	LogLimit int
}

// An Account is a simulated Cosmos DB account: a global endpoint and one
// endpoint per region, each an HTTP server on its own 127.0.0.1 port, over
// one shared document store. Exactly one region accepts writes, unless
// Options.MultipleWriteLocations is set.
//
// An Account is safe for concurrent use. Close releases everything it
// started.
type Account struct {
	key     *region.MasterKey // signs requests for tests (Sign)
	rawKey  []byte            // verifies them, independently of key
	keyText string
	now     func() time.Time
	id      string
	regions []string             // failover priority order
	multi   bool                 // Options.MultipleWriteLocations
	ppaf    bool                 // Options.PerPartitionFailover
	global  *endpoint            // the account endpoint
	byName  map[string]*endpoint // Global and every region; read-only after NewAccount

	done      chan struct{} // closed by Close: aborts Delay waits
	closeOnce sync.Once

	mu            sync.Mutex          // guards the fields below
	testHookDelay func(time.Duration) // set by tests only: runs as a Delay wait begins
	writeRegion   string
	globalStale   bool
	docHook       func(def []byte) []byte
	rangeRegions  map[rangeOf]string     // the write region of each range failed over on its own (FailoverRange)
	faults        map[string]*faultState // by endpoint name
	log           requestLog
	inFlight      int // requests being answered and not yet logged
	conns         int // connections accepted by every endpoint
	store         store
}

type endpoint struct {
	name string
	url  string // "http://127.0.0.1:PORT/"
	srv  *httptest.Server
}

// NewAccount starts an account's endpoints and returns it. Like
// httptest.NewServer it panics if opts is invalid (see Options) or a
// listener cannot be opened. Callers must Close the account.
func NewAccount(opts Options) *Account {
	a := &Account{
		keyText:     opts.Key,
		now:         opts.Now,
		id:          opts.AccountID,
		regions:     slices.Clone(opts.Regions),
		multi:       opts.MultipleWriteLocations,
		ppaf:        opts.PerPartitionFailover,
		writeRegion: opts.WriteRegion,
		byName:      make(map[string]*endpoint),
		done:        make(chan struct{}),
		faults:      make(map[string]*faultState),
		log:         requestLog{limit: opts.LogLimit},
	}
	initialRanges := opts.InitialRanges
	if initialRanges == 0 {
		initialRanges = defaultRanges
	}
	if initialRanges < 0 {
		panic(fmt.Sprintf("cosmostest: Options.InitialRanges %d is negative", initialRanges))
	}
	a.store = newStore(initialRanges, opts.Serverless)
	if a.log.limit == 0 {
		a.log.limit = DefaultLogLimit
	}
	if a.keyText == "" {
		a.keyText = DefaultKey
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.id == "" {
		a.id = "cosmostest"
	}
	if len(a.regions) == 0 {
		a.regions = slices.Clone(defaultRegions[:])
	}
	if a.writeRegion == "" {
		a.writeRegion = a.regions[0]
	}
	if err := a.validate(); err != nil {
		panic(err)
	}
	for _, name := range append([]string{Global}, a.regions...) {
		ep, err := a.listen(name)
		if err != nil {
			a.Close()
			panic(err)
		}
		a.byName[name] = ep
	}
	a.global = a.byName[Global]
	return a
}

func (a *Account) validate() error {
	k, err := region.NewMasterKey(a.keyText)
	if err != nil {
		return fmt.Errorf("cosmostest: Options.Key: %w", err)
	}
	a.key = k
	a.rawKey, _ = base64.StdEncoding.DecodeString(a.keyText) // valid: NewMasterKey accepted it
	seen := make(map[string]bool)
	for _, r := range a.regions {
		if r == "" || r == Global || seen[r] {
			return fmt.Errorf("cosmostest: Options.Regions: empty, duplicate or reserved name %q", r)
		}
		seen[r] = true
	}
	if !seen[a.writeRegion] {
		return fmt.Errorf("cosmostest: Options.WriteRegion %q is not one of Options.Regions", a.writeRegion)
	}
	return nil
}

func (a *Account) listen(name string) (*endpoint, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("cosmostest: listening for %s: %w", name, err)
	}
	srv := httptest.NewUnstartedServer(a.handler(name))
	srv.Listener.Close() // replaced: the account promises 127.0.0.1
	srv.Listener = ln
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			a.mu.Lock()
			a.conns++
			a.mu.Unlock()
		}
	}
	srv.Start()
	return &endpoint{name: name, url: srv.URL + "/", srv: srv}, nil
}

// Close shuts every endpoint down: it aborts Delay waits, closes the
// listeners and connections and waits for handlers to return. The log and
// the store stay readable. Close is idempotent.
func (a *Account) Close() {
	a.closeOnce.Do(func() {
		close(a.done)
		for _, ep := range a.byName {
			ep.srv.Close()
		}
	})
}

// Endpoint returns the global (account) endpoint's URL, with a trailing
// slash: the URL clients are configured with.
func (a *Account) Endpoint() string { return a.global.url }

// RegionEndpoint returns the URL (with a trailing slash) of the named
// region's endpoint, or of the global endpoint for Global; "" if there is
// no such endpoint.
func (a *Account) RegionEndpoint(name string) string {
	if ep, ok := a.byName[name]; ok {
		return ep.url
	}
	return ""
}

// Connections returns how many connections the account's endpoints have
// accepted since it started: one per TCP handshake a client made, whatever
// made it. An endpoint accepts a connection just after the client's dial
// returns, so a test that compares this with its own count of dials waits
// for them to agree.
func (a *Account) Connections() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.conns
}

// Regions returns the region names in failover priority order.
func (a *Account) Regions() []string { return slices.Clone(a.regions) }

// Key returns the master key requests must be signed with.
func (a *Account) Key() string { return a.keyText }

// WriteRegion returns the current write region: in a multi-write account,
// the hub region, the one that accepts writes without
// x-ms-cosmos-allow-tentative-writes.
func (a *Account) WriteRegion() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.writeRegion
}

// Failover makes region the write region, as a manual failover does: from
// now on writes at the former write region's endpoint are refused with
// 403 and substatus 3, the DatabaseAccount document names the new region,
// and the global endpoint (unless stale) writes as the new region would.
// In a multi-write account it moves the hub: the document lists region
// first among the writable locations, and only region accepts writes
// without x-ms-cosmos-allow-tentative-writes. Every partition's writes
// move: ranges failed over on their own (FailoverRange) follow the
// account again.
func (a *Account) Failover(region string) error {
	if !slices.Contains(a.regions, region) {
		return fmt.Errorf("cosmostest: failover to unknown region %q", region)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.writeRegion = region
	clear(a.rangeRegions)
	return nil
}

// SetGlobalStale models DNS lag after a failover. While stale is true the
// global endpoint still answers the DatabaseAccount (the current document)
// and reads, but refuses writes with 403 and substatus 3. In a multi-write
// account it then writes as a satellite region does: it refuses only the
// writes without x-ms-cosmos-allow-tentative-writes.
func (a *Account) SetGlobalStale(stale bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.globalStale = stale
}

// SetAccountDocument makes every endpoint answer GET / with
// edit(def), where def is the document the account would have served, so
// tests can serve broken or hostile documents. edit runs on each request,
// outside the account's lock, and must be safe for concurrent use. A nil
// edit restores the real document.
func (a *Account) SetAccountDocument(edit func(def []byte) []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.docHook = edit
}

// Sign signs req for this account: it sets x-ms-date (from the account's
// clock), x-ms-version (if absent) and Authorization, like account.Sign.
// req may address any of the account's endpoints. A request for one offer
// (/offers/{rid}) is signed as the service expects and azcosmos signs it:
// its resource link is the offer's resource id, lower-cased.
func (a *Account) Sign(req *http.Request) error {
	link, ok := offerLink(req.URL.Path)
	if !ok {
		return account.Sign(req.Context(), req, a.key, a.now())
	}
	date := a.now().UTC().Format(http.TimeFormat)
	auth, err := a.key.Authorization(req.Context(), req.Method, offersType, link, date)
	if err != nil {
		return fmt.Errorf("cosmostest: signing an offer request: %w", err)
	}
	req.Header.Set(wire.HeaderDate, date)
	if req.Header.Get(wire.HeaderVersion) == "" {
		req.Header.Set(wire.HeaderVersion, wire.APIVersion)
	}
	req.Header.Set("Authorization", auth)
	return nil
}

// accountLocation is an entry of writableLocations and readableLocations.
type accountLocation struct {
	Name     string `json:"name"`
	Endpoint string `json:"databaseAccountEndpoint"`
}

// accountDocument returns the DatabaseAccount document as served now.
func (a *Account) accountDocument() []byte {
	a.mu.Lock()
	write, edit := a.writeRegion, a.docHook
	a.mu.Unlock()

	// The write region (the hub) leads both lists, as in the service.
	readable := []accountLocation{{write, a.byName[write].url}}
	for _, r := range a.regions {
		if r != write {
			readable = append(readable, accountLocation{r, a.byName[r].url})
		}
	}
	writable := readable[:1]
	if a.multi {
		writable = readable
	}
	doc := map[string]any{
		"id":                                 a.id,
		"_self":                              "",
		"_rid":                               a.global.srv.Listener.Addr().String(),
		"media":                              "//media/",
		"addresses":                          "//addresses/",
		"_dbs":                               "//dbs/",
		"writableLocations":                  writable,
		"readableLocations":                  readable,
		"enableMultipleWriteLocations":       a.multi,
		"enablePerPartitionFailoverBehavior": a.ppaf,
		"userReplicationPolicy":              map[string]any{"asyncReplication": false, "minReplicaSetSize": 3, "maxReplicasetSize": 4},
		"userConsistencyPolicy":              map[string]any{"defaultConsistencyLevel": "Session"},
		"systemReplicationPolicy":            map[string]any{"minReplicaSetSize": 3, "maxReplicasetSize": 4},
		"readPolicy":                         map[string]any{"primaryReadCoefficient": 1, "secondaryReadCoefficient": 1},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic("cosmostest: encoding the account document: " + err.Error()) // cannot happen: plain values
	}
	if edit != nil {
		b = edit(b)
	}
	return b
}
