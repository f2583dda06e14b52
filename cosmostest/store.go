package cosmostest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// collKey names a collection (coll "" stands for the whole database where
// the store marks what was deleted).
type collKey struct{ db, coll string }

// docKey names every item with one id in a collection, whatever its
// partition key.
type docKey struct{ db, coll, id string }

// itemKey names one item: an id within a logical partition.
type itemKey struct{ db, coll, pk, id string }

type storedDoc struct {
	body []byte         // JSON with system properties
	m    map[string]any // body, decoded; never modified once stored
	etag string
	seq  uint64 // commit that wrote it: orders feeds
	pk   partitionKey
	epk  string // pk's effective partition key; "" where there is no partition key
}

// A collection holds documents. One that was never created (def nil) has
// no partition key: the id alone names an item, under partition key "".
type collection struct {
	def   *container
	items map[string]map[string]*storedDoc // by id, then partition key text
}

func (c *collection) get(id string, pk partitionKey) *storedDoc {
	if c == nil {
		return nil
	}
	return c.items[id][pk.text]
}

// store is the account's databases, containers and documents, shared by
// every region. It is not safe for concurrent use: the Account's mutex
// guards it.
type store struct {
	dbs       map[string]*database
	colls     map[collKey]*collection
	gone      map[collKey]bool // deleted containers, and deleted databases as {db, ""}
	commits   map[docKey]int
	commitsPK map[itemKey]int
	lsn       uint64 // number of committed document writes
	rids      uint32 // resource ids handed out to databases and containers

	offers     uint32 // offers made
	offerEdits uint32 // versions of offers made: their etags

	initialRanges int  // partition key ranges of a new container
	serverless    bool // Options.Serverless: no provisioned throughput, no offers
}

// newStore returns an empty store whose containers start with
// initialRanges partition key ranges, of a serverless account or not.
func newStore(initialRanges int, serverless bool) store {
	return store{
		dbs: make(map[string]*database), colls: make(map[collKey]*collection), gone: make(map[collKey]bool),
		commits: make(map[docKey]int), commitsPK: make(map[itemKey]int),
		initialRanges: initialRanges, serverless: serverless,
	}
}

// sessionToken is the session token after the latest commit.
func (s *store) sessionToken() string { return fmt.Sprintf("0:-1#%d", s.lsn) }

// open returns the collection documents at ck live in (nil for a
// collection never created that holds no documents yet), or an error
// answer if the container or its database was deleted.
func (s *store) open(ck collKey) (*collection, *answer) {
	if s.gone[ck] || s.gone[collKey{ck.db, ""}] {
		ans := errorAnswer(http.StatusNotFound, subOwnerGone, "The container or its database does not exist any more.")
		return nil, &ans
	}
	return s.colls[ck], nil
}

// A txn stages the document writes of one request against one collection,
// so that a transactional batch commits all of them or none. Reads within
// the txn see its staged writes.
type txn struct {
	s      *store
	ck     collKey
	c      *collection // nil: never created and empty so far
	now    time.Time
	staged []stagedWrite
}

type stagedWrite struct {
	id  string
	pk  partitionKey
	doc *storedDoc // nil: deleted
}

func (t *txn) get(id string, pk partitionKey) *storedDoc {
	for i := len(t.staged) - 1; i >= 0; i-- {
		if w := t.staged[i]; w.id == id && w.pk.text == pk.text {
			return w.doc
		}
	}
	return t.c.get(id, pk)
}

// def returns the collection's container, or nil if it has no partition key.
func (t *txn) def() *container {
	if t.c == nil {
		return nil
	}
	return t.c.def
}

// put stages m as the item id in partition pk, stamped with system
// properties as of the commit it will become.
func (t *txn) put(id string, pk partitionKey, m map[string]any) *storedDoc {
	lsn := t.s.lsn + uint64(len(t.staged)) + 1
	var rid [8]byte
	binary.BigEndian.PutUint64(rid[:], lsn)
	d := &storedDoc{etag: fmt.Sprintf(`"00000000-0000-0000-0000-%012x"`, lsn), seq: lsn, pk: pk, m: m}
	m["_rid"] = base64.StdEncoding.EncodeToString(rid[:])
	m["_self"] = "dbs/" + t.ck.db + "/colls/" + t.ck.coll + "/docs/" + id + "/"
	m["_etag"] = d.etag
	m["_attachments"] = "attachments/"
	m["_ts"] = t.now.Unix()
	d.body = encodeJSON(m)
	if t.def() != nil {
		d.epk = effectivePartitionKey(pk.value)
	}
	t.staged = append(t.staged, stagedWrite{id: id, pk: pk, doc: d})
	return d
}

func (t *txn) remove(id string, pk partitionKey) {
	t.staged = append(t.staged, stagedWrite{id: id, pk: pk})
}

// commit applies the staged writes in order and counts them. It reports
// whether there were any; a nil txn has none.
func (t *txn) commit() bool {
	if t == nil || len(t.staged) == 0 {
		return false
	}
	if t.c == nil {
		t.c = &collection{items: make(map[string]map[string]*storedDoc)}
		t.s.colls[t.ck] = t.c
	}
	for _, w := range t.staged {
		t.s.lsn++
		t.s.commits[docKey{t.ck.db, t.ck.coll, w.id}]++
		t.s.commitsPK[itemKey{t.ck.db, t.ck.coll, w.pk.text, w.id}]++
		byPK := t.c.items[w.id]
		if w.doc == nil {
			delete(byPK, w.pk.text)
			if len(byPK) == 0 {
				delete(t.c.items, w.id)
			}
			continue
		}
		if byPK == nil {
			byPK = make(map[string]*storedDoc)
			t.c.items[w.id] = byPK
		}
		byPK[w.pk.text] = w.doc
	}
	t.staged = nil
	return true
}

// encodeJSON encodes a value decoded from JSON: it cannot fail. HTML
// characters stay as they came.
func encodeJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// parseDocument decodes a document body: one JSON object with a valid
// string "id". On failure msg says why.
func parseDocument(body []byte) (m map[string]any, id, msg string) {
	v, err := decodeJSON(body)
	if m, _ = v.(map[string]any); err != nil || m == nil {
		return nil, "", "The request body must hold exactly one JSON object."
	}
	id, _ = m["id"].(string)
	if msg = checkID(id); msg != "" {
		return nil, "", msg
	}
	return m, id, ""
}

// checkID returns why id cannot name a resource, or "".
func checkID(id string) string {
	switch {
	case id == "":
		return "The input content is invalid because the required property, id, is missing."
	case len(id) > 255 || strings.ContainsAny(id, `/\?#`):
		return "The id is longer than 255 characters or contains one of / \\ ? #."
	}
	return ""
}
