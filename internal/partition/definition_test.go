package partition

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseContainerReadsThePartitionKeyDefinition(t *testing.T) {
	for _, tt := range []struct {
		doc  string
		want Definition
	}{
		{`{"id":"orders","partitionKey":{"paths":["/pk"],"kind":"Hash","version":2},"_rid":"x","indexingPolicy":{}}`,
			Definition{Paths: []string{"/pk"}, Kind: Hash, Version: 2}},
		{`{"id":"old","partitionKey":{"paths":["/pk"],"kind":"Hash"}}`,
			Definition{Paths: []string{"/pk"}, Kind: Hash, Version: 1}},
		{`{"partitionKey":{"paths":["/pk"],"version":null}}`,
			Definition{Paths: []string{"/pk"}, Kind: Hash, Version: 1}},
		{`{"PartitionKey":{"Paths":["/a/b"],"Kind":"hash","Version":"2","systemKey":false}}`,
			Definition{Paths: []string{"/a/b"}, Kind: Hash, Version: 2}},
		{`{"partitionKey":{"paths":["/tenant","/user","/session"],"kind":"MultiHash","version":2}}`,
			Definition{Paths: []string{"/tenant", "/user", "/session"}, Kind: MultiHash, Version: 2}},
	} {
		got, err := ParseContainer([]byte(tt.doc))
		if assert.NoError(t, err, tt.doc) {
			assert.Equal(t, tt.want, got, tt.doc)
		}
	}
}

func TestParseContainerRejectsWhatItCannotRoute(t *testing.T) {
	for _, doc := range []string{
		``, `[]`, `{"id":"c"}`, `{"partitionKey":null}`,
		`{"partitionKey":{"paths":["/pk"],"kind":"Range"}}`,
		`{"partitionKey":{"paths":["/pk"],"kind":"Hash","version":3}}`,
		`{"partitionKey":{"paths":["/pk"],"kind":"Hash","version":1.5}}`,
		`{"partitionKey":{"paths":["/pk"],"kind":"Hash","version":"two"}}`,
		`{"partitionKey":{"paths":[],"kind":"Hash"}}`,
		`{"partitionKey":{"paths":["pk"],"kind":"Hash"}}`,
		`{"partitionKey":{"paths":["/"],"kind":"Hash"}}`,
		`{"partitionKey":{"paths":["/a","/b"],"kind":"Hash"}}`,
		`{"partitionKey":{"paths":["/a","/b","/c","/d","/e","/f","/g","/h","/i"],"kind":"MultiHash","version":2}}`,
		`{"partitionKey":{"paths":"/pk"}}`,
	} {
		_, err := ParseContainer([]byte(doc))
		assert.ErrorIs(t, err, ErrDefinition, doc)
	}
}
