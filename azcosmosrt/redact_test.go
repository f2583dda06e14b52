package azcosmosrt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
)

// Options that hold the key by mistake (the constructors refuse it), the
// error that refuses them, and a Client that signs with the key, printed
// with every fmt verb, encoding/json and log/slog's text and JSON handlers,
// alone, through a pointer and as a field, show no piece of the key; the
// chain's preferred regions still show where the SDK options let them
// (encoding/json cannot marshal azcore's ClientOptions, which hold a func).
func TestOptionsAndClientNeverPrintTheKey(t *testing.T) {
	r := newRig(t, cosmostest.Options{Key: accountKey}, func(o *Options) { o.Chain.PreferredRegions = []string{"East US"} })
	_, err := r.orders.CreateItem(t.Context(), pk, orderJSON(t, "1", 10), nil)
	require.NoError(t, err) // the chain has loaded the account and signed with the key

	o := Options{}
	o.Chain.Key, o.Chain.Credential, o.Chain.PreferredRegions = accountKey, r.key, []string{"East US"}
	_, refused := NewClientWithKey(r.acct.Endpoint(), r.key, &o)
	require.Error(t, refused)

	raw, err := base64.StdEncoding.DecodeString(accountKey)
	require.NoError(t, err)
	forbidden := []string{accountKey, string(raw[:12]), fmt.Sprintf("%x", raw[:8])}
	for i := 0; i+8 <= len(accountKey); i += 4 {
		forbidden = append(forbidden, accountKey[i:i+8])
	}

	for name, v := range map[string]any{
		"Options":              o,
		"*Options":             &o,
		"struct with Options":  struct{ O Options }{o},
		"*Client":              r.client,
		"struct with *Client":  struct{ C *Client }{r.client},
		"error of the refusal": refused,
	} {
		outs := map[string]string{}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			outs["fmt "+verb] = fmt.Sprintf(verb, v)
		}
		b, err := json.Marshal(v)
		outs["json"] = string(b) + fmt.Sprint(err)
		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("options", "v", v)
		slog.New(slog.NewJSONHandler(&js, nil)).Info("options", "v", v)
		outs["slog text"], outs["slog json"] = text.String(), js.String()
		for way, out := range outs {
			for _, f := range forbidden {
				assert.NotContains(t, out, f, "%s printed by %s: %s", name, way, out)
			}
		}
		if name != "*Client" && name != "struct with *Client" && name != "error of the refusal" {
			for _, way := range []string{"fmt %v", "fmt %+v", "fmt %#v", "slog text"} {
				assert.Contains(t, outs[way], "East US", "%s printed by %s", name, way)
				assert.Contains(t, outs[way], "(redacted)", "%s printed by %s", name, way)
			}
		}
	}
}
