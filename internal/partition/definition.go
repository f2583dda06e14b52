package partition

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ParseContainer reads the partition key definition from a container's
// document (GET /dbs/{db}/colls/{coll}), whose "partitionKey" property is
// such as {"paths": ["/tenant", "/user"], "kind": "MultiHash", "version": 2}.
// Decoding is tolerant: unknown properties are ignored, names match
// regardless of case, an absent kind means Hash and an absent version
// means 1, and the version may be a number or a string holding one. Paths
// must start with "/". Errors wrap ErrDefinition.
func ParseContainer(doc []byte) (Definition, error) {
	var c struct {
		PartitionKey *struct {
			Paths   []string
			Kind    string
			Version json.Number
		}
	}
	if err := json.Unmarshal(doc, &c); err != nil {
		return Definition{}, fmt.Errorf("%w: reading the container: %w", ErrDefinition, err)
	}
	pk := c.PartitionKey
	if pk == nil {
		return Definition{}, fmt.Errorf("%w: the container has no partitionKey", ErrDefinition)
	}
	d := Definition{Paths: pk.Paths, Version: 1}
	switch {
	case pk.Kind == "" || strings.EqualFold(pk.Kind, "Hash"):
		d.Kind = Hash
	case strings.EqualFold(pk.Kind, "MultiHash"):
		d.Kind = MultiHash
	default:
		return Definition{}, fmt.Errorf("%w: kind %.20q", ErrDefinition, pk.Kind)
	}
	if pk.Version != "" {
		v, err := pk.Version.Int64()
		if err != nil || v < 1 || v > 2 {
			return Definition{}, fmt.Errorf("%w: version %.20q", ErrDefinition, pk.Version)
		}
		d.Version = int(v)
	}
	for _, p := range d.Paths {
		if len(p) < 2 || p[0] != '/' {
			return Definition{}, fmt.Errorf("%w: path %.40q", ErrDefinition, p)
		}
	}
	if err := d.check(); err != nil {
		return Definition{}, err
	}
	return d, nil
}
