package region

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testVectorKey = "dsZQi3KtZmCv1ljt3VNWNm7sQUF1y5rJfC6kv5JiwvW0EndXdDku/dkKBp8/ufDToSxLzR4y+O/0H/t4bQtVNw=="

func TestMasterKeySignatureMatchesPublishedVector(t *testing.T) {
	k, err := NewMasterKey(testVectorKey)
	require.NoError(t, err)
	sig := k.signature("GET", "dbs", "dbs/ToDoList", "Thu, 27 Apr 2017 00:51:12 GMT")
	assert.Equal(t, "c09PEVJrgp2uQRkr934kFbTqhByc7TVr3OHyqlu+c+c=", sig)

	auth, err := k.Authorization(context.Background(), "GET", "dbs", "dbs/ToDoList", "Thu, 27 Apr 2017 00:51:12 GMT")
	require.NoError(t, err)
	assert.Equal(t, url.QueryEscape("type=master&ver=1.0&sig=c09PEVJrgp2uQRkr934kFbTqhByc7TVr3OHyqlu+c+c="), auth)
}

func TestNewMasterKeyRejectsBadKeyWithoutEchoingIt(t *testing.T) {
	for _, key := range []string{"", "not base64!!", "c2VjcmV0"[:5]} {
		_, err := NewMasterKey(key)
		require.ErrorIs(t, err, ErrBadKey)
		if key != "" {
			assert.NotContains(t, err.Error(), key)
		}
	}
}

// otherKey is a second valid key, distinct from testVectorKey.
const otherKey = "b3RoZXIga2V5IGZvciByb3RhdGlvbiB0ZXN0cywgbm90IGEgc2VjcmV0IQ=="

const vectorDate = "Thu, 27 Apr 2017 00:51:12 GMT"

func TestMasterKeyUpdateRotatesTheKey(t *testing.T) {
	k := testKey(t)
	other, err := NewMasterKey(otherKey)
	require.NoError(t, err)
	vectorSig := k.signature("GET", "dbs", "dbs/ToDoList", vectorDate)
	otherSig := other.signature("GET", "dbs", "dbs/ToDoList", vectorDate)
	require.NotEqual(t, vectorSig, otherSig)

	require.NoError(t, k.Update(otherKey))
	assert.Equal(t, otherSig, k.signature("GET", "dbs", "dbs/ToDoList", vectorDate))
	for _, bad := range []string{"", "not base64!!", testVectorKey[:5]} {
		err := k.Update(bad)
		require.ErrorIs(t, err, ErrBadKey, "%q", bad)
		if bad != "" {
			assert.NotContains(t, err.Error(), bad)
		}
		assert.Equal(t, otherSig, k.signature("GET", "dbs", "dbs/ToDoList", vectorDate), "a bad key keeps the old one")
	}
	require.NoError(t, k.Update(testVectorKey))
	assert.Equal(t, vectorSig, k.signature("GET", "dbs", "dbs/ToDoList", vectorDate))
}

func TestZeroMasterKeySignsNothingUntilUpdated(t *testing.T) {
	var k MasterKey
	_, err := k.Authorization(context.Background(), "GET", "dbs", "dbs/ToDoList", vectorDate)
	require.ErrorIs(t, err, ErrBadKey)

	require.NoError(t, k.Update(testVectorKey))
	assert.Equal(t, "c09PEVJrgp2uQRkr934kFbTqhByc7TVr3OHyqlu+c+c=", k.signature("GET", "dbs", "dbs/ToDoList", vectorDate))
}

func TestMasterKeyUpdateWhileSigning(t *testing.T) {
	k := testKey(t)
	other, err := NewMasterKey(otherKey)
	require.NoError(t, err)
	want := map[string]bool{
		testKey(t).signature("GET", "dbs", "dbs/ToDoList", vectorDate): true,
		other.signature("GET", "dbs", "dbs/ToDoList", vectorDate):      true,
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				auth, err := k.Authorization(context.Background(), "GET", "dbs", "dbs/ToDoList", vectorDate)
				if !assert.NoError(t, err) {
					return
				}
				sig, _ := url.QueryUnescape(auth)
				if !assert.True(t, want[strings.TrimPrefix(sig, "type=master&ver=1.0&sig=")], "a signature by neither key") {
					return
				}
			}
		})
	}
	for i := range 1000 {
		key := testVectorKey
		if i%2 == 0 {
			key = otherKey
		}
		require.NoError(t, k.Update(key))
	}
	close(stop)
	wg.Wait()
}

func TestMasterKeyNeverPrintsItsKey(t *testing.T) {
	k := testKey(t)
	raw, err := base64.StdEncoding.DecodeString(testVectorKey)
	require.NoError(t, err)
	var held struct{ K MasterKey } // a MasterKey held by value
	require.NoError(t, held.K.Update(testVectorKey))
	values := map[string]any{
		"*MasterKey":                   k,
		"struct with *MasterKey":       struct{ K *MasterKey }{k},
		"struct with unexported field": struct{ k *MasterKey }{k},
		"pointer to struct with value": &held,
		"struct with a Credential":     struct{ Credential Credential }{k},
		"slice":                        []Credential{k},
		"map":                          map[string]*MasterKey{"k": k},
	}
	forbidden := []string{
		testVectorKey[:12],                           // base64
		string(raw[:8]),                              // raw bytes
		hex.EncodeToString(raw[:8]),                  // %x
		strings.ToUpper(hex.EncodeToString(raw[:8])), // %X
		strings.Trim(fmt.Sprint(raw[:4]), "[]"),      // decimal bytes, as %v of a []byte
		fmt.Sprintf("%q", raw[:4])[1:9],              // %q of the bytes
	}
	for name, v := range values {
		outs := map[string]string{}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			outs[verb] = fmt.Sprintf(verb, v)
		}
		b, err := json.Marshal(v)
		require.NoError(t, err)
		outs["json"] = string(b)
		for handler, h := range map[string]func(io.Writer) slog.Handler{
			"slog text": func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
			"slog json": func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
		} {
			var buf bytes.Buffer
			slog.New(h(&buf)).Info("credential", "v", v)
			outs[handler] = buf.String()
		}
		for way, out := range outs {
			for _, f := range forbidden {
				assert.NotContains(t, out, f, "%s printed with %s: %s", name, way, out)
			}
		}
	}
	b, err := json.Marshal(k)
	require.NoError(t, err)
	assert.JSONEq(t, `"region.MasterKey(redacted)"`, string(b))
	b, err = json.Marshal(struct{ Credential Credential }{k})
	require.NoError(t, err)
	assert.JSONEq(t, `{"Credential":"region.MasterKey(redacted)"}`, string(b))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		assert.Equal(t, "region.MasterKey(redacted)", fmt.Sprintf(verb, k))
	}
	assert.Equal(t, "region.MasterKey(redacted)", k.String())
	assert.Contains(t, fmt.Sprintf("%v", struct{ K *MasterKey }{k}), "region.MasterKey(redacted)")
}

func testKey(t testing.TB) *MasterKey {
	t.Helper()
	k, err := NewMasterKey(testVectorKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
