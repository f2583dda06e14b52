package cosmostest

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"time"
)

// A database created with POST /dbs.
type database struct {
	rid   []byte
	body  []byte
	etag  string
	offer *offer // its shared throughput, or nil
}

// A container created with POST /dbs/{db}/colls: its partition key
// definition and the properties it is served with.
type container struct {
	pk     partitionKeyDef
	rid    string
	self   string
	ts     int64
	body   []byte
	etag   string
	ranges rangeSet

	offer   *offer                // its own throughput, or nil (see store.rate)
	buckets map[bucketKey]*bucket // its ranges' budgets, made as requests need them
}

// newResource stamps props with the system properties of a new database
// or container and returns its resource id and etag.
func (s *store) newResource(props map[string]any, parent []byte, now time.Time) (rid []byte, etag string) {
	s.rids++
	rid = binary.BigEndian.AppendUint32(append([]byte(nil), parent...), s.rids)
	etag = fmt.Sprintf(`"00000000-0000-0000-0001-%012x"`, s.rids)
	ridText := base64.StdEncoding.EncodeToString(rid)
	props["_rid"] = ridText
	props["_etag"] = etag
	props["_ts"] = now.Unix()
	if parent == nil {
		props["_self"] = "dbs/" + ridText + "/"
	} else {
		props["_self"] = "dbs/" + base64.StdEncoding.EncodeToString(parent) + "/colls/" + ridText + "/"
	}
	return rid, etag
}

// createDatabase creates a database, with the shared throughput the
// request's headers provision, if any (see parseThroughput).
func (s *store) createDatabase(h http.Header, body []byte, now time.Time) answer {
	m, id, msg := parseDocument(body)
	if msg != "" {
		return errorAnswer(http.StatusBadRequest, 0, msg)
	}
	if s.dbs[id] != nil {
		return errorAnswer(http.StatusConflict, 0, "Database with the specified id already exists in the system.")
	}
	o, msg := s.provision(h, msgServerlessDatabase, now)
	if msg != "" {
		return errorAnswer(http.StatusBadRequest, 0, msg)
	}
	m["_colls"], m["_users"] = "colls/", "users/"
	rid, etag := s.newResource(m, nil, now)
	d := &database{rid: rid, body: encodeJSON(m), etag: etag, offer: o}
	s.dbs[id] = d
	delete(s.gone, collKey{id, ""})
	return resourceAnswer(http.StatusCreated, d.body, d.etag)
}

func (s *store) readDatabase(db string) answer {
	d := s.dbs[db]
	if d == nil {
		return errorAnswer(http.StatusNotFound, 0, "The database does not exist (it was never created with POST /dbs).")
	}
	return resourceAnswer(http.StatusOK, d.body, d.etag)
}

// deleteDatabase deletes a database with its containers and every
// document under it, those of collections never created included.
func (s *store) deleteDatabase(db string) answer {
	if s.dbs[db] == nil {
		return errorAnswer(http.StatusNotFound, 0, "The database does not exist (it was never created with POST /dbs).")
	}
	delete(s.dbs, db)
	for ck := range s.colls {
		if ck.db == db {
			delete(s.colls, ck)
		}
	}
	for ck := range s.gone {
		if ck.db == db {
			delete(s.gone, ck)
		}
	}
	s.gone[collKey{db, ""}] = true
	return answer{status: http.StatusNoContent}
}

// createContainer creates a container in database db, with the
// throughput the request's headers provision, if any (see
// parseThroughput).
func (s *store) createContainer(db string, h http.Header, body []byte, now time.Time) answer {
	d := s.dbs[db]
	if d == nil {
		return errorAnswer(http.StatusNotFound, subOwnerGone, "The database does not exist (it was never created with POST /dbs).")
	}
	m, id, msg := parseDocument(body)
	if msg != "" {
		return errorAnswer(http.StatusBadRequest, 0, msg)
	}
	ck := collKey{db, id}
	switch c := s.colls[ck]; {
	case c != nil && c.def != nil:
		return errorAnswer(http.StatusConflict, 0, "Collection with the specified id already exists in the system.")
	case c != nil && len(c.items) > 0:
		return errorAnswer(http.StatusConflict, 0,
			"cosmostest: documents were written to this collection before it was created, without a partition key.")
	}
	def, msg := parsePartitionKeyDef(m["partitionKey"])
	if msg != "" {
		return errorAnswer(http.StatusBadRequest, 0, msg)
	}
	o, msg := s.provision(h, msgServerlessContainer, now)
	if msg != "" {
		return errorAnswer(http.StatusBadRequest, 0, msg)
	}
	m["partitionKey"] = def.json()
	if _, ok := m["indexingPolicy"]; !ok {
		m["indexingPolicy"] = map[string]any{
			"indexingMode": "consistent", "automatic": true,
			"includedPaths": []any{map[string]any{"path": "/*"}},
			"excludedPaths": []any{map[string]any{"path": `/"_etag"/?`}},
		}
	}
	m["_docs"], m["_sprocs"], m["_triggers"], m["_udfs"], m["_conflicts"] = "docs/", "sprocs/", "triggers/", "udfs/", "conflicts/"
	rid, etag := s.newResource(m, d.rid, now)
	c := &container{
		pk: def, rid: base64.StdEncoding.EncodeToString(rid), self: m["_self"].(string),
		ts: now.Unix(), body: encodeJSON(m), etag: etag, ranges: evenRanges(s.initialRanges), offer: o,
	}
	s.colls[ck] = &collection{def: c, items: make(map[string]map[string]*storedDoc)}
	delete(s.gone, ck)
	return resourceAnswer(http.StatusCreated, c.body, c.etag)
}

// container returns the container created at ck, or nil.
func (s *store) container(ck collKey) *collection {
	if c := s.colls[ck]; c != nil && c.def != nil {
		return c
	}
	return nil
}

func (s *store) readContainer(ck collKey) answer {
	c := s.container(ck)
	if c == nil {
		return containerNotFound()
	}
	return resourceAnswer(http.StatusOK, c.def.body, c.def.etag)
}

// deleteContainer deletes a container and its documents; document
// requests to it then get 404 until it is created again.
func (s *store) deleteContainer(ck collKey) answer {
	if s.container(ck) == nil {
		return containerNotFound()
	}
	delete(s.colls, ck)
	s.gone[ck] = true
	return answer{status: http.StatusNoContent}
}

func containerNotFound() answer {
	return errorAnswer(http.StatusNotFound, 0, "The container does not exist (it was never created with POST /dbs/{db}/colls).")
}

func resourceAnswer(status int, body []byte, etag string) answer {
	return answer{status: status, body: body, header: http.Header{"Etag": {etag}}}
}
