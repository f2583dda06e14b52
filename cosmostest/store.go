package cosmostest

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// collKey names a collection; any collection exists implicitly.
type collKey struct{ db, coll string }

// docKey names a document.
type docKey struct{ db, coll, id string }

func (k docKey) collection() collKey { return collKey{k.db, k.coll} }

type storedDoc struct {
	body []byte // JSON with system properties
	etag string
	seq  uint64 // commit that wrote it: orders feeds
}

// store is the account's documents, shared by every region. It is not
// safe for concurrent use: the Account's mutex guards it.
type store struct {
	colls   map[collKey]map[string]*storedDoc
	commits map[docKey]int
	lsn     uint64 // number of committed writes
}

func newStore() store {
	return store{colls: make(map[collKey]map[string]*storedDoc), commits: make(map[docKey]int)}
}

// sessionToken is the session token after the latest commit.
func (s *store) sessionToken() string { return fmt.Sprintf("0:-1#%d", s.lsn) }

func (s *store) get(k docKey) *storedDoc { return s.colls[k.collection()][k.id] }

func (s *store) read(k docKey) answer {
	d := s.get(k)
	if d == nil {
		return errorAnswer(http.StatusNotFound, 0, "Entity with the specified id does not exist in the system.")
	}
	return docAnswer(http.StatusOK, d)
}

// list answers a read feed or a query: every document of the collection,
// oldest write first.
func (s *store) list(ck collKey) answer {
	docs := make([]*storedDoc, 0, len(s.colls[ck]))
	for _, d := range s.colls[ck] {
		docs = append(docs, d)
	}
	slices.SortFunc(docs, func(x, y *storedDoc) int { return cmp.Compare(x.seq, y.seq) })
	feed := struct {
		RID       string            `json:"_rid"`
		Documents []json.RawMessage `json:"Documents"`
		Count     int               `json:"_count"`
	}{RID: "", Documents: make([]json.RawMessage, 0, len(docs)), Count: len(docs)}
	for _, d := range docs {
		feed.Documents = append(feed.Documents, d.body)
	}
	body, _ := json.Marshal(feed)
	return answer{status: http.StatusOK, body: body, header: http.Header{"X-Ms-Item-Count": {strconv.Itoa(len(docs))}}}
}

func (s *store) create(ck collKey, body []byte, now time.Time) answer {
	m, id, msg := parseDocument(body)
	if msg != "" {
		return errorAnswer(http.StatusBadRequest, 0, msg)
	}
	k := docKey{ck.db, ck.coll, id}
	if s.get(k) != nil {
		return errorAnswer(http.StatusConflict, 0, "Entity with the specified id already exists in the system.")
	}
	return docAnswer(http.StatusCreated, s.commit(k, m, now))
}

func (s *store) upsert(ck collKey, body []byte, ifMatch string, now time.Time) answer {
	m, id, msg := parseDocument(body)
	if msg != "" {
		return errorAnswer(http.StatusBadRequest, 0, msg)
	}
	k := docKey{ck.db, ck.coll, id}
	status := http.StatusCreated
	if d := s.get(k); d != nil {
		if ifMatch != "" && ifMatch != d.etag {
			return preconditionFailed()
		}
		status = http.StatusOK
	}
	return docAnswer(status, s.commit(k, m, now))
}

func (s *store) replace(k docKey, body []byte, ifMatch string, now time.Time) answer {
	m, id, msg := parseDocument(body)
	if msg != "" {
		return errorAnswer(http.StatusBadRequest, 0, msg)
	}
	if id != k.id {
		return errorAnswer(http.StatusBadRequest, 0, "The id in the body does not match the id in the path.")
	}
	d := s.get(k)
	if d == nil {
		return errorAnswer(http.StatusNotFound, 0, "Entity with the specified id does not exist in the system.")
	}
	if ifMatch != "" && ifMatch != d.etag {
		return preconditionFailed()
	}
	return docAnswer(http.StatusOK, s.commit(k, m, now))
}

func (s *store) remove(k docKey, ifMatch string) answer {
	d := s.get(k)
	if d == nil {
		return errorAnswer(http.StatusNotFound, 0, "Entity with the specified id does not exist in the system.")
	}
	if ifMatch != "" && ifMatch != d.etag {
		return preconditionFailed()
	}
	delete(s.colls[k.collection()], k.id)
	s.lsn++
	s.commits[k]++
	return answer{status: http.StatusNoContent}
}

// commit stores m as the document k, stamped with system properties.
func (s *store) commit(k docKey, m map[string]any, now time.Time) *storedDoc {
	s.lsn++
	s.commits[k]++
	var rid [8]byte
	binary.BigEndian.PutUint64(rid[:], s.lsn)
	d := &storedDoc{etag: fmt.Sprintf(`"00000000-0000-0000-0000-%012x"`, s.lsn), seq: s.lsn}
	m["_rid"] = base64.StdEncoding.EncodeToString(rid[:])
	m["_self"] = "dbs/" + k.db + "/colls/" + k.coll + "/docs/" + k.id + "/"
	m["_etag"] = d.etag
	m["_attachments"] = "attachments/"
	m["_ts"] = now.Unix()
	d.body, _ = json.Marshal(m) // values came from JSON: cannot fail
	if s.colls[k.collection()] == nil {
		s.colls[k.collection()] = make(map[string]*storedDoc)
	}
	s.colls[k.collection()][k.id] = d
	return d
}

func docAnswer(status int, d *storedDoc) answer {
	return answer{status: status, body: d.body, header: http.Header{"Etag": {d.etag}}}
}

func preconditionFailed() answer {
	return errorAnswer(http.StatusPreconditionFailed, 0, "Operation cannot be performed because one of the specified precondition is not met.")
}

// parseDocument decodes a document body: one JSON object with a valid
// string "id". On failure msg says why.
func parseDocument(body []byte) (m map[string]any, id, msg string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, "", "The request body must be a JSON object."
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", "The request body must hold exactly one JSON object."
	}
	id, _ = m["id"].(string)
	switch {
	case id == "":
		return nil, "", "The input content is invalid because the required property, id, is missing."
	case len(id) > 255 || strings.ContainsAny(id, `/\?#`):
		return nil, "", "The id is longer than 255 characters or contains one of / \\ ? #."
	}
	return m, id, ""
}

// Commits returns how many writes (create, upsert, replace, delete) of the
// document id in collection coll of database db the account committed.
// Refused, faulted or failed writes do not count.
func (a *Account) Commits(db, coll, id string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.store.commits[docKey{db, coll, id}]
}

// Document returns the stored JSON of a document, system properties
// included, and whether it exists.
func (a *Account) Document(db, coll, id string) ([]byte, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.store.get(docKey{db, coll, id})
	if d == nil {
		return nil, false
	}
	return slices.Clone(d.body), true
}
